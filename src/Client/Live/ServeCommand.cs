using System.CommandLine;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;
using Spectre.Console;

namespace Scheduler.Client.Live;

/// <summary><c>serve SCENARIO --port N [--speed X] [--out DIR] [--record FILE]</c>: the scenario's engine in real time behind the ECS API.</summary>
public static class ServeCommand
{

    public static Command Create(IAnsiConsole console, Interrupts interrupts)
    {
        var scenarioArg = new Argument<string>("scenario") { Description = "Scenario file (YAML or JSON): accounts (with credentials), clusters, timeline." };
        var portOption = CliOptions.RequiredInt("--port", "TCP port on 127.0.0.1 for the ECS API.", 1, 65535);
        var speedOption = CliOptions.Number("--speed", "Simulated seconds per wall second.", 1.0, 0.01, 100_000);
        var outOption = new Option<string?>("--out") { Description = "Output folder for events.jsonl and summary.json (default: runs/<scenario name>)." };
        var recordOption = new Option<string?>("--record") { Description = "Write the accepted API calls, with the scenario, as a scenario file that simulate replays." };
        var keepOption = new Option<string>("--keep-stopped")
        {
            Description = "How long (simulated) stopped tasks and deregistered instances stay visible to Describe/List.", DefaultValueFactory = _ => "1h",
        };
        keepOption.Validators.Add(r =>
        {
            if (!Duration.TryParse(r.GetValueOrDefault<string>(), out var d) || d <= TimeSpan.Zero)
            {
                r.AddError($"--keep-stopped '{r.GetValueOrDefault<string>()}' is not a positive duration (e.g. 1h, 5m)");
            }
        });
        var connectOption = new Option<string?>("--connect")
        {
            Description = "Run on a running cluster of silo processes instead of an embedded silo: STORE=CONNECTION, e.g. redis=127.0.0.1:6379.",
        };
        var clusterIdOption = new Option<string>("--cluster-id") { Description = "With --connect: the cluster's id (the silos' --cluster-id).", DefaultValueFactory = _ => "scheduler" };
        var limitOption = CliOptions.Limit();
        var strictOption = CliOptions.Strict();
        var command = new Command("serve", "Run a scenario in real time (simulated = wall x speed) behind an ECS-compatible API on 127.0.0.1 until SIGINT/SIGTERM.")
        {
            scenarioArg, portOption, speedOption, outOption, recordOption, keepOption, connectOption, clusterIdOption, limitOption, strictOption,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(scenarioArg)!;
            Silo.SchedulerStore? store = null;
            if (parse.GetValue(connectOption) is { } connect)
            {
                store = ConnectedCluster.Parse(connect, out var problem);
                if (store is null)
                {
                    Cli.Error(console, $"--connect: {problem}");
                    return Cli.BadInput;
                }
            }
            else if (parse.GetResult(clusterIdOption) is { Implicit: false })
            {
                Cli.Error(console, "--cluster-id names the cluster --connect connects to; it needs --connect");
                return Cli.BadInput;
            }
            LiveScenario live;
            try
            {
                // The calls of the session are held to the same limits as the file.
                live = LiveScenario.Open(path, CliOptions.Limits(parse, limitOption), cancellation, LoadProgressLines.For(console, path));
            }
            catch (OperationCanceledException)
            {
                console.MarkupLine("[yellow]interrupted while loading the scenario[/]; nothing was served");
                return interrupts.ExitCode;
            }
            if (!Cli.CheckLoaded(console, live.Loaded, parse.GetValue(strictOption)))
            {
                return Cli.BadInput;
            }
            var scenario = live.Loaded.Scenario!;
            if (scenario.Accounts.All(a => a.Credentials is null))
            {
                Cli.Error(console, $"{path}: no account has credentials (accounts[].credentials: {{ accessKeyId, secretAccessKey }}), so no call could be signed");
                return Cli.BadInput;
            }
            // Checked before the silo starts: a session whose files cannot be written is refused, not lost at its end.
            var outDir = parse.GetValue(outOption) ?? OutputFolder.Default(scenario.Name);
            var record = parse.GetValue(recordOption);
            if (record is not null && OutputFolder.CheckFile(record, "--record") is { } recordError)
            {
                Cli.Error(console, recordError);
                return Cli.BadInput;
            }
            if (OutputFolder.Prepare(outDir) is { } outError)
            {
                Cli.Error(console, outError);
                return Cli.BadInput;
            }
            // Set once the API listens: from then on a signal ends the session normally (exit 0), before that its start.
            var started = new StrongBox<bool>();
            try
            {
                return await ServeAsync(started, console, path, scenario, live, live.Loaded.Catalog ?? InstanceTypeCatalog.Default,
                    parse.GetValue(portOption), parse.GetValue(speedOption), outDir,
                    record, Duration.TryParse(parse.GetValue(keepOption), out var keep) ? keep : LiveModel.DefaultRetention,
                    store, parse.GetValue(clusterIdOption)!, cancellation);
            }
            catch (Exception e) when (e is not OutOfMemoryException && interrupts.Signal is not null && !started.Value)
            {
                // A signal while the silo starts (or the client connects) cancels the start: nothing was served.
                console.MarkupLineInterpolated($"[yellow]interrupted by {interrupts.Reason}[/] before the session began ({e.GetType().Name}); nothing was served");
                return interrupts.ExitCode;
            }
        });
        return command;
    }

    private static async Task<int> ServeAsync(StrongBox<bool> started, IAnsiConsole console, string path, Scenario scenario, LiveScenario live, InstanceTypeCatalog catalog,
        int port, double speed, string outDir, string? record, TimeSpan keepStopped, Silo.SchedulerStore? store, string clusterId,
        CancellationToken cancellation)
    {
        // SIGINT and SIGTERM (the command's interrupts cancel the token) end the session cleanly: the files are
        // written and the exit code is 0. A second signal ends the process at once.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var clock = Stopwatch.StartNew();
        // Embedded, or a client of the silo processes: the session runs on their grains. Either way it writes no
        // checkpoints: a live session is not resumed (the calls it answered cannot be taken back), so a lost silo ends it.
        await using var embedded = store is null ? await EmbeddedCluster.StartAsync(1, cancellation) : null;
        await using var connected = store is null ? null : await ConnectedCluster.ConnectAsync(store, clusterId, cancellation);
        var grains = embedded?.Grains ?? connected!.Grains;
        var engine = await LiveEngine.StartAsync(grains, scenario, live, catalog, speed, record is not null, keepStopped, checkpoints: false);
        // Requests wait on no full blocking collection: generation 2 is collected in the background only.
        System.Runtime.GCSettings.LatencyMode = System.Runtime.GCLatencyMode.SustainedLowLatency;
        LiveServer server;
        try
        {
            server = await LiveServer.StartAsync(engine, port, NullLoggerFactory.Instance, cancellation);
        }
        catch (IOException e)
        {
            console.Write(new Text("error: ", new Style(Color.Red)));
            console.WriteLine($"cannot listen on 127.0.0.1:{port}: {e.Message}");
            return Cli.Failed;
        }
        started.Value = true;
        console.WriteLine($"serving the ECS API (and AWS Batch: SubmitJob, DescribeJobs, ListJobs, CreateJobQueue, DescribeJobQueues) for '{scenario.Name}' on http://127.0.0.1:{port} at {speed:0.###}x; output in {outDir}; stop with Ctrl+C or SIGTERM");
        var eventsPath = Path.Combine(outDir, "events.jsonl");
        await using (var file = new FileStream(eventsPath, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16))
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 16);
            var lastReport = Stopwatch.StartNew();
            async Task Sink(IReadOnlyList<SimEvent> events)
            {
                foreach (var e in events)
                {
                    EventJson.WriteLine(e, buffer);
                }
                await file.WriteAsync(buffer.WrittenMemory, CancellationToken.None);
                buffer.ResetWrittenCount();
                if (lastReport.ElapsedMilliseconds >= 10_000)
                {
                    lastReport.Restart();
                    await file.FlushAsync(CancellationToken.None);
                    console.WriteLine($"simulated {Duration.Format(TimeSpan.FromMilliseconds(engine.SimulatedMs))}, {engine.Events:N0} events, {server.Requests:N0} requests ({engine.AcceptedCalls:N0} accepted changes), working set {Environment.WorkingSet >> 20} MiB, longest step {engine.TakeLongestStepMs():0} ms");
                }
            }
            var driver = engine.DriveAsync(Sink, stop.Token);
            // Until a signal, or until the engine fails (a silo of the connected cluster was lost).
            await Task.WhenAny(Task.Delay(Timeout.Infinite, stop.Token), driver);
            // No new calls; then the driver delivers what was accepted and stops at its next horizon.
            await server.DisposeAsync();
            try
            {
                await driver;
            }
            catch (Exception e) when (store is not null && e is not OperationCanceledException)
            {
                await file.FlushAsync(CancellationToken.None);
                console.Write(new Text("error: ", new Style(Color.Red)));
                console.WriteLine($"the cluster stopped running the session ({e.GetType().Name}: {e.Message}); the events up to then are in {eventsPath}");
                return Cli.Failed;
            }
        }
        var summary = engine.BuildSummary(clock.Elapsed.TotalSeconds);
        await File.WriteAllTextAsync(Path.Combine(outDir, "summary.json"), JsonSerializer.Serialize(summary, SimulationRun.SummaryJson) + "\n", CancellationToken.None);
        if (record is not null)
        {
            engine.WriteRecording(path, record);
            console.WriteLine($"recorded {engine.AcceptedCalls:N0} call(s) in {record}");
        }
        console.WriteLine($"stopped at {Duration.Format(TimeSpan.FromMilliseconds(engine.SimulatedMs))} simulated: {server.Requests:N0} requests, {engine.Events:N0} events; wrote {eventsPath} and {Path.Combine(outDir, "summary.json")}");
        return Cli.Ok;
    }
}
