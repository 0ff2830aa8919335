using System.CommandLine;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;
using Spectre.Console;

namespace Scheduler.Client;

/// <summary>The command line. Exit codes: 0 success, 1 failed run or threshold, 2 bad input.</summary>
public static class Cli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;

    public static async Task<int> RunAsync(string[] args, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        using var interrupts = Interrupts.Listen(message => console.MarkupLineInterpolated($"[yellow]{message}[/]"));
        var root = new RootCommand("Simulates an ECS-like multi-tenant container control plane on Orleans, in simulated time.");
        root.Subcommands.Add(SimulateCommand(console, interrupts));
        root.Subcommands.Add(ValidateCommand(console));
        root.Subcommands.Add(BenchCommand(console));
        root.Subcommands.Add(Experiment.ExperimentCommand.Create(console));
        root.Subcommands.Add(Live.ServeCommand.Create(console, interrupts));
        root.Subcommands.Add(Live.LoadTestCommand.Create(console));
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                Error(console, CliOptions.PlainParseError(error.Message));
            }
            console.WriteLine("Run with --help for usage.");
            return BadInput;
        }
        // Signals are handled by Interrupts (a second Ctrl-C ends the process at once), not by the library.
        var exit = await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, interrupts.Token);
        // serve runs until a signal stops it: that is its normal end, exit code 0.
        return interrupts.Signal is null || parse.CommandResult.Command.Name == "serve" ? exit : interrupts.ExitCode;
    }

    private static Command ValidateCommand(IAnsiConsole console)
    {
        var scenarioArg = new Argument<string>("scenario") { Description = "Scenario file (YAML or JSON)." };
        var limitOption = CliOptions.Limit();
        var strictOption = CliOptions.Strict();
        var command = new Command("validate", "Check a scenario without running it; reports every error in the file.") { scenarioArg, limitOption, strictOption };
        command.SetAction((parse, cancellation) =>
        {
            var path = parse.GetValue(scenarioArg)!;
            if (Load(console, path, CliOptions.Limits(parse, limitOption), cancellation) is not { } loaded)
            {
                return Task.FromResult(Failed);
            }
            if (!CheckLoaded(console, loaded, parse.GetValue(strictOption)))
            {
                return Task.FromResult(BadInput);
            }
            var s = loaded.Scenario!;
            console.MarkupLineInterpolated($"[green]ok[/] {path}: scenario '{s.Name}', {s.Accounts.Count} account(s), {s.Accounts.Sum(a => a.Clusters.Count)} cluster(s), {s.Accounts.Sum(a => a.Clusters.Sum(c => c.Services.Count))} service(s), {s.Timeline.Count} timeline entries");
            return Task.FromResult(Ok);
        });
        return command;
    }

    private static Command BenchCommand(IAnsiConsole console)
    {
        var outOption = new Option<string>("--out") { Description = "Folder for bench.json.", DefaultValueFactory = _ => Path.Combine("runs", "bench") };
        var tasksOption = CliOptions.Int("--tasks", "Pending tasks to place.", 100_000, 1, 10_000_000);
        var instancesOption = CliOptions.Int("--instances", "Registered instances to place them on.", 10_000, 1, 1_000_000);
        var zonesOption = CliOptions.Int("--zones", "Availability zones.", 3, 1, 26);
        var repeatOption = CliOptions.Int("--repeat", "Timed runs of the pure placement (the median is reported).", 5, 1, 1_000);
        var scenarioOption = new Option<string?>("--scenario") { Description = "Also run this scenario through the grains and report simulation speed and peak memory." };
        var command = new Command("bench", "Measure placement throughput: the pure phases on one thread and end to end through the grains on one silo; writes bench.json.")
        {
            outOption, tasksOption, instancesOption, zonesOption, repeatOption, scenarioOption,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var options = new BenchOptions(parse.GetValue(tasksOption), parse.GetValue(instancesOption), parse.GetValue(zonesOption), parse.GetValue(repeatOption), Seed: 1);
            var outDir = parse.GetValue(outOption)!;
            var scenario = parse.GetValue(scenarioOption);
            if (scenario is not null)
            {
                if (Load(console, scenario, ScenarioLimits.Default, cancellation) is not { } loaded)
                {
                    return Failed;
                }
                if (!loaded.Ok)
                {
                    ReportErrors(console, loaded.Errors, loaded.ErrorCount);
                    return BadInput;
                }
            }
            // Checked before the benchmarks run, not after minutes of them; bench.json is the only file written there.
            if (OutputFolder.Prepare(outDir, clearEarlierRun: false) is { } outError)
            {
                Error(console, outError);
                return BadInput;
            }
            try
            {
                var result = await Bench.RunAsync(options, line => console.WriteLine(line), cancellation, scenario);
                await Bench.WriteAsync(result, outDir, cancellation);
                var table = new Table().Title("bench").AddColumn("figure").AddColumn(new TableColumn("value").RightAligned());
                table.AddRow("placementCorePerSecond", result.PlacementCorePerSecond.ToString("N0"));
                table.AddRow("placementEndToEndPerSecond", result.PlacementEndToEndPerSecond.ToString("N0"));
                table.AddRow("bytesPerInstance", result.BytesPerInstance.ToString("N0"));
                table.AddRow("bytesPerTask", result.BytesPerTask.ToString("N0"));
                table.AddRow("allocatedBytesPerTask", result.AllocatedBytesPerTask.ToString("N0"));
                table.AddRow("gcPauseSeconds", result.GcPauseSeconds.ToString("F3"));
                if (result.Simulation is { } sim)
                {
                    table.AddRow("simulatedSecondsPerWallSecond", sim.SimulatedSecondsPerWallSecond.ToString("N0"));
                    table.AddRow("eventsPerWallSecond", sim.EventsPerWallSecond.ToString("N0"));
                    table.AddRow("peakWorkingSet", $"{sim.PeakWorkingSetBytes >> 20:N0} MiB");
                }
                table.AddRow("machine", Markup.Escape($"{result.ProcessorCount} cores, {result.Machine}, {result.Runtime}"));
                console.Write(table);
                console.MarkupLineInterpolated($"wrote {Path.Combine(outDir, "bench.json")}");
                return Ok;
            }
            catch (OperationCanceledException)
            {
                console.MarkupLine("[yellow]cancelled[/]");
                return Failed;
            }
        });
        return command;
    }

    private static Command SimulateCommand(IAnsiConsole console, Interrupts interrupts)
    {
        var scenarioArg = new Argument<string>("scenario") { Description = "Scenario file (YAML or JSON)." };
        var outOption = new Option<string?>("--out") { Description = "Output folder for events.jsonl and summary.json (default: runs/<scenario name>)." };
        var seedOption = CliOptions.OptionalLong("--seed", "Override the scenario's seed (a whole number).");
        var silosOption = CliOptions.Int("--silos", "Number of silos to start in this process.", 1, 1, 16);
        var limitOption = CliOptions.Limit();
        var strictOption = CliOptions.Strict();
        var explainOption = new Option<string?>("--explain")
        {
            Description = "Explain how the placement phases handled this task (e.g. web-00001): phase, instance, and why other instances were rejected.",
        };
        var observe = new ObserveOptions();
        var connectOption = new Option<string?>("--connect")
        {
            Description = "Run on a running cluster of silo processes instead of embedded silos: STORE=CONNECTION, e.g. redis=127.0.0.1:6379 or azuretable=UseDevelopmentStorage=true.",
        };
        var clusterIdOption = new Option<string>("--cluster-id") { Description = "With --connect: the cluster's id (the silos' --cluster-id).", DefaultValueFactory = _ => "scheduler" };
        var checkpointOption = new Option<string?>("--checkpoint-interval")
        {
            Description = "With --connect: least wall time between two checkpoints (e.g. 500ms, 2s; default 2s). A silo lost in the middle of a run costs about this much work again.",
        };
        var command = new Command("simulate", "Run a scenario on an embedded Orleans cluster (or a running one, with --connect) and write events.jsonl, summary.json, metrics.csv and report.html.")
        {
            scenarioArg, outOption, seedOption, silosOption, explainOption, limitOption, strictOption, connectOption, clusterIdOption, checkpointOption,
        };
        observe.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(scenarioArg)!;
            if (!observe.TryRead(parse, out var wanted, out var errors))
            {
                foreach (var error in errors)
                {
                    Error(console, error);
                }
                console.WriteLine($"{errors.Count} error(s); nothing was run.");
                return BadInput;
            }
            Silo.SchedulerStore? store = null;
            if (parse.GetValue(connectOption) is { } connect)
            {
                store = ConnectedCluster.Parse(connect, out var problem);
                if (store is null)
                {
                    Error(console, $"--connect: {problem}");
                    return BadInput;
                }
                if (parse.GetResult(silosOption) is { Implicit: false })
                {
                    Error(console, "--silos starts embedded silos; with --connect the cluster's own silos run the scenario");
                    return BadInput;
                }
                if (wanted.DashboardPort is not null)
                {
                    Error(console, "--dashboard serves the embedded silos' dashboard; with --connect, start the silos with --dashboard");
                    return BadInput;
                }
            }
            else if (parse.GetResult(clusterIdOption) is { Implicit: false })
            {
                Error(console, "--cluster-id names the cluster --connect connects to; it needs --connect");
                return BadInput;
            }
            var resilience = RunResilience.Connected;
            if (parse.GetValue(checkpointOption) is { } interval)
            {
                if (store is null)
                {
                    Error(console, "--checkpoint-interval: checkpoints protect a run on silo processes; it needs --connect");
                    return BadInput;
                }
                if (!Duration.TryParse(interval, out var every, out var why) || every < TimeSpan.FromMilliseconds(100) || every > TimeSpan.FromHours(1))
                {
                    Error(console, $"--checkpoint-interval: {(why.Length > 0 ? why : $"'{interval}' must be between 100ms and 1h")}");
                    return BadInput;
                }
                resilience = resilience with { CheckpointIntervalMs = (int)every.TotalMilliseconds };
            }
            var clusterId = parse.GetValue(clusterIdOption)!;
            if (string.IsNullOrWhiteSpace(clusterId))
            {
                Error(console, "--cluster-id: must not be empty");
                return BadInput;
            }
            if (Load(console, path, CliOptions.Limits(parse, limitOption), cancellation) is not { } loaded)
            {
                return Failed;
            }
            if (!CheckLoaded(console, loaded, parse.GetValue(strictOption)))
            {
                return BadInput;
            }
            var scenario = loaded.Scenario!;
            if (parse.GetValue(seedOption) is { } seed)
            {
                scenario = scenario with { Seed = seed };
            }
            var catalog = loaded.Catalog ?? InstanceTypeCatalog.Default;
            var outDir = parse.GetValue(outOption) ?? OutputFolder.Default(scenario.Name);
            if (OutputFolder.Prepare(outDir) is { } outError)
            {
                Error(console, outError);
                return BadInput;
            }
            var silos = parse.GetValue(silosOption);
            try
            {
                var explain = parse.GetValue(explainOption);
                if (explain is not null && ShardedClusters(scenario) is { Count: > 0 } sharded)
                {
                    console.MarkupLineInterpolated($"[yellow]warning[/]: --explain does not cover clusters with several placement schedulers ({string.Join(", ", sharded)}); their tasks show as never pending");
                }
                RunSummary summary;
                if (store is not null)
                {
                    console.MarkupLineInterpolated($"Running [bold]{scenario.Name}[/] (seed {scenario.Seed}) on cluster '{clusterId}' over {store}, output in {outDir}");
                    await using var connected = await ConnectedCluster.ConnectAsync(store, clusterId, cancellation);
                    summary = await WithProgress(console, scenario, status =>
                        SimulationRun.RunAsync(connected.Grains, scenario, catalog, outDir, status, cancellation: cancellation, explainTask: explain,
                            metricsInterval: wanted.MetricsInterval, thresholds: wanted.Thresholds, interruptReason: () => interrupts.Reason ?? "cancelled", resilience: resilience));
                }
                else
                {
                    console.MarkupLineInterpolated($"Running [bold]{scenario.Name}[/] (seed {scenario.Seed}) on {silos} silo(s), output in {outDir}");
                    // Not cancelled by a signal: an interrupted run still writes its (empty) log and a summary marked interrupted.
                    await using var cluster = await EmbeddedCluster.StartAsync(silos, CancellationToken.None, wanted.DashboardPort);
                    if (wanted.DashboardPort is { } port)
                    {
                        console.MarkupLineInterpolated($"Orleans Dashboard on http://127.0.0.1:{port}/");
                    }
                    summary = await WithProgress(console, scenario, status =>
                        SimulationRun.RunAsync(cluster.Grains, scenario, catalog, outDir, status, cancellation: cancellation, explainTask: explain,
                            metricsInterval: wanted.MetricsInterval, thresholds: wanted.Thresholds, interruptReason: () => interrupts.Reason ?? "cancelled"));
                }
                SummaryTable(console, summary, outDir);
                if (summary.Interrupted)
                {
                    console.MarkupLineInterpolated($"[yellow]interrupted by {summary.InterruptReason}[/]: {outDir} holds the events up to then and a summary marked interrupted");
                    return interrupts.Signal is null ? Failed : interrupts.ExitCode;
                }
                if (summary.HitMaxDuration)
                {
                    console.MarkupLineInterpolated($"[yellow]warning[/]: the run did not settle within maxDuration ({Duration.Format(TimeSpan.FromMilliseconds(SimulationLimits.EndMs(scenario)))}) and stopped there");
                }
                var verdicts = Thresholds.Evaluate(wanted.Thresholds, summary);
                ThresholdTable(console, verdicts);
                if (explain is not null)
                {
                    var lines = await File.ReadAllLinesAsync(SimulationRun.ExplanationPath(outDir, explain), cancellation);
                    console.MarkupLineInterpolated($"[bold]placement of {explain}[/]");
                    foreach (var line in lines.DefaultIfEmpty($"{explain} was never pending placement on instances in this run (Fargate tasks, tasks of clusters with several placement schedulers and unknown task ids have nothing to explain)."))
                    {
                        console.WriteLine(line);
                    }
                }
                return verdicts.Any(v => v.Failed) ? Failed : Ok;
            }
            catch (OperationCanceledException)
            {
                console.MarkupLine("[yellow]cancelled[/]");
                return Failed;
            }
            catch (Exception e) when (e is not OutOfMemoryException && interrupts.Signal is not null)
            {
                // A signal while the silos start cancels their start: that is the interruption, not a failed run.
                console.MarkupLineInterpolated($"[yellow]interrupted by {interrupts.Reason}[/] before the run began ({e.GetType().Name}); nothing was run");
                return Failed;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Error(console, $"run failed: {e.GetType().Name}: {e.Message}");
                var log = Path.Combine(outDir, "error.log");
                if (Directory.Exists(outDir))
                {
                    await File.WriteAllTextAsync(log, e.ToString(), CancellationToken.None);
                    console.MarkupLineInterpolated($"details in {log}");
                }
                return Failed;
            }
        });
        return command;
    }

    /// <summary>"account/cluster (mode, K schedulers)" of each cluster whose placement is split among schedulers.</summary>
    private static List<string> ShardedClusters(Scenario scenario) =>
        [.. scenario.Accounts.SelectMany(a => a.Clusters.Where(c => !c.Placement.IsDefault)
            .Select(c => $"{a.Id}/{c.Name}: {Experiment.ExperimentGrid.ModeName(c.Placement.Mode)}, {c.Placement.Shards} scheduler(s)"))];

    private static async Task<RunSummary> WithProgress(IAnsiConsole console, Scenario scenario, Func<Action<RunStatus>, Task<RunSummary>> run)
    {
        var end = SimulationLimits.EndMs(scenario);
        if (!console.Profile.Capabilities.Interactive)
        {
            // Logs and CI: a plain line every few seconds instead of a redrawn bar.
            var last = System.Diagnostics.Stopwatch.StartNew();
            return await run(s =>
            {
                if (s.Note is not null)
                {
                    console.WriteLine(s.Note);
                }
                if (last.ElapsedMilliseconds >= 2000)
                {
                    last.Restart();
                    console.WriteLine($"simulated {Duration.Format(TimeSpan.FromMilliseconds(s.SimulatedMs))} of {Duration.Format(TimeSpan.FromMilliseconds(end))}, {s.Ticks} ticks, {s.Events} events");
                }
            });
        }
        RunSummary? summary = null;
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask("simulated time", maxValue: end);
                summary = await run(s =>
                {
                    if (s.Note is not null)
                    {
                        console.MarkupLineInterpolated($"[yellow]{s.Note}[/]");
                    }
                    bar.Value = s.SimulatedMs;
                    bar.Description = $"simulated {Duration.Format(TimeSpan.FromMilliseconds(s.SimulatedMs))} · {s.Events:N0} events";
                });
                bar.Value = end;
            });
        return summary!;
    }

    /// <summary>Loads a scenario; null when a signal stopped the load (the command then ends with the signal's exit code).</summary>
    internal static ScenarioLoadResult? Load(IAnsiConsole console, string path, ScenarioLimits limits, CancellationToken cancellation)
    {
        try
        {
            return ScenarioLoader.Load(path, limits, cancellation, LoadProgressLines.For(console, path));
        }
        catch (OperationCanceledException)
        {
            console.MarkupLine("[yellow]interrupted while loading the scenario[/]; nothing was run");
            return null;
        }
    }

    internal static void Error(IAnsiConsole console, string message)
    {
        console.Write(new Text("error: ", new Style(Color.Red)));
        console.WriteLine(message);
    }

    /// <summary>At most this many errors are printed; the rest are counted.</summary>
    public const int PrintedErrors = ScenarioLoadResult.PrintedErrors;

    /// <summary>Prints the first errors (the loader keeps only those) and the count of all of them.</summary>
    private static void ReportErrors(IAnsiConsole console, IReadOnlyList<ScenarioError> errors, int count)
    {
        var printed = errors.Take(PrintedErrors).ToArray();
        foreach (var e in printed)
        {
            Error(console, e.ToString());
        }
        if (count > printed.Length)
        {
            console.WriteLine($"... and {count - printed.Length:N0} more");
        }
        console.WriteLine($"{count:N0} error(s); nothing was run.");
    }

    /// <summary>Prints the errors and warnings of a load; false when the scenario cannot run (errors, or warnings under --strict).</summary>
    internal static bool CheckLoaded(IAnsiConsole console, ScenarioLoadResult loaded, bool strict)
    {
        if (!loaded.Ok)
        {
            ReportErrors(console, loaded.Errors, loaded.ErrorCount);
            return false;
        }
        if (strict && loaded.Warnings.Count > 0)
        {
            ReportErrors(console, loaded.Warnings, loaded.WarningCount);
            return false;
        }
        foreach (var w in loaded.Warnings.Take(PrintedErrors))
        {
            console.Write(new Text("warning: ", new Style(Color.Yellow)));
            console.WriteLine(w.ToString());
        }
        if (loaded.WarningCount > Math.Min(loaded.Warnings.Count, PrintedErrors))
        {
            console.WriteLine($"... and {loaded.WarningCount - Math.Min(loaded.Warnings.Count, PrintedErrors):N0} more warnings");
        }
        return true;
    }

    private static void SummaryTable(IAnsiConsole console, RunSummary s, string outDir) =>
        EndOfRunTable.Write(console, s, outDir);

    private static void ThresholdTable(IAnsiConsole console, IReadOnlyList<ThresholdResult> verdicts)
    {
        if (verdicts.Count == 0)
        {
            return;
        }
        var table = new Table().Title("thresholds").AddColumn("threshold").AddColumn(new TableColumn("value").RightAligned()).AddColumn("result");
        foreach (var v in verdicts)
        {
            table.AddRow(Markup.Escape(v.Threshold.Text), Markup.Escape(Thresholds.Format(v.Measured, v.Threshold.Unit)),
                v.Failed ? "[red]FAIL[/]" : "[green]pass[/]");
        }
        console.Write(table);
        var failed = verdicts.Count(v => v.Failed);
        console.WriteLine(failed == 0 ? $"all {verdicts.Count} threshold(s) passed" : $"{failed} of {verdicts.Count} threshold(s) failed");
    }
}
