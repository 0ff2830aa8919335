using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Scheduler.Core.Catalog;
using Scheduler.Core.Scenarios;
using Spectre.Console;

namespace Scheduler.Client.Experiment;

/// <summary>
/// <c>experiment</c>: runs one scenario over a grid of placement schedulers (shards, mode, conflict detection,
/// decision time) on one embedded cluster, and writes experiment.csv (one row per run), experiment.html (the curves
/// and the table) and each run's own files under runs/. Progress goes to stderr, the table to stdout.
/// </summary>
public static class ExperimentCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var scenarioArg = new Argument<string>("scenario") { Description = "Scenario file (YAML or JSON); every cluster in it gets each run's placement." };
        var shardsOption = new Option<string>("--shards") { Description = "Shard counts, comma-separated (default 1,2,4,8).", DefaultValueFactory = _ => "1,2,4,8" };
        var modeOption = new Option<string>("--mode") { Description = "Modes: monolithic, partitioned, shared-state (default partitioned,shared-state).", DefaultValueFactory = _ => "partitioned,shared-state" };
        var conflictOption = new Option<string>("--conflict") { Description = "Conflict detection of shared-state runs: fine, coarse (default fine,coarse).", DefaultValueFactory = _ => "fine,coarse" };
        var decisionOption = new Option<string>("--decision-time") { Description = "Decision times, comma-separated durations (default 0s,1s,10s).", DefaultValueFactory = _ => "0s,1s,10s" };
        var outOption = new Option<string?>("--out") { Description = "Output folder (default: runs/<scenario name>-experiment)." };
        var seedOption = CliOptions.OptionalLong("--seed", "Override the scenario's seed (a whole number).");
        var silosOption = CliOptions.Int("--silos", "Number of silos to start in this process.", 1, 1, 16);
        var limitOption = CliOptions.Limit();
        var command = new Command("experiment",
            "Run a scenario over a grid of placement schedulers and write experiment.csv, experiment.html and the table of conflicts, quality and speed.")
        {
            scenarioArg, shardsOption, modeOption, conflictOption, decisionOption, outOption, seedOption, silosOption, limitOption,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var errors = new List<string>();
            var shards = ExperimentGrid.Shards(parse.GetValue(shardsOption)!, errors);
            var modes = ExperimentGrid.Modes(parse.GetValue(modeOption)!, errors);
            var conflicts = ExperimentGrid.Conflicts(parse.GetValue(conflictOption)!, errors);
            var decisions = ExperimentGrid.DecisionTimes(parse.GetValue(decisionOption)!, errors);
            if (errors.Count > 0)
            {
                foreach (var e in errors)
                {
                    Cli.Error(console, e);
                }
                console.WriteLine($"{errors.Count} error(s); nothing was run.");
                return Cli.BadInput;
            }
            if (Cli.Load(console, parse.GetValue(scenarioArg)!, CliOptions.Limits(parse, limitOption), cancellation) is not { } loaded)
            {
                // Stopped by a signal: the command line ends with the signal's exit code.
                return Cli.Failed;
            }
            if (!Cli.CheckLoaded(console, loaded, strict: false))
            {
                return Cli.BadInput;
            }
            var scenario = loaded.Scenario!;
            if (parse.GetValue(seedOption) is { } seed)
            {
                scenario = scenario with { Seed = seed };
            }
            var catalog = loaded.Catalog ?? InstanceTypeCatalog.Default;
            var outDir = parse.GetValue(outOption) ?? OutputFolder.Default(scenario.Name + "-experiment");
            if (OutputFolder.Prepare(outDir) is { } outError)
            {
                Cli.Error(console, outError);
                return Cli.BadInput;
            }
            var points = ExperimentGrid.Expand(shards!, modes!, conflicts!, decisions!);
            var silos = parse.GetValue(silosOption);
            var rows = new List<ExperimentRow>();
            try
            {
                await using var cluster = await EmbeddedCluster.StartAsync(silos, cancellation);
                Console.Error.WriteLine($"experiment: {points.Count} runs of {scenario.Name} (seed {scenario.Seed}) on {silos} silo(s), output in {outDir}");
                // One run first, not recorded, so that the first row's wall time does not include warming up the process.
                Console.Error.Write("warm-up run (not recorded) ... ");
                await SimulationRun.RunAsync(cluster.Grains, WithPlacement(scenario, points[0]), catalog, Path.Combine(outDir, "runs", "warm-up"), cancellation: cancellation);
                Console.Error.WriteLine("done");
                var all = Stopwatch.StartNew();
                for (var k = 0; k < points.Count; k++)
                {
                    var point = points[k];
                    Console.Error.Write($"[{k + 1}/{points.Count}] {point.Label} ... ");
                    var runScenario = WithPlacement(scenario, point);
                    var summary = await SimulationRun.RunAsync(cluster.Grains, runScenario, catalog, Path.Combine(outDir, "runs", point.Label),
                        cancellation: cancellation);
                    rows.Add(new ExperimentRow(point, summary));
                    var left = all.Elapsed / (k + 1) * (points.Count - k - 1);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{summary.WallSeconds:0.00} s wall, {summary.PlacementConflicts} conflicts, p90 {summary.TimeToRunning.P90:0.#} s (about {left.TotalSeconds:0} s left)"));
                }
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine();
                console.MarkupLine("[yellow]cancelled[/]: writing the runs finished so far");
            }
            await File.WriteAllTextAsync(Path.Combine(outDir, "experiment.csv"), ExperimentReport.Csv(rows), CancellationToken.None);
            await File.WriteAllTextAsync(Path.Combine(outDir, "experiment.html"), ExperimentReport.Html(scenario, rows), CancellationToken.None);
            ExperimentReport.Table(console, rows);
            console.WriteLine($"wrote {Path.Combine(outDir, "experiment.csv")} and {Path.Combine(outDir, "experiment.html")}");
            return rows.Count == points.Count ? Cli.Ok : Cli.Failed;
        });
        return command;
    }

    /// <summary>The scenario with every cluster's placement set to the point's.</summary>
    public static Scenario WithPlacement(Scenario scenario, ExperimentPoint point) => scenario with
    {
        Accounts = scenario.Accounts.Select(a => a with { Clusters = a.Clusters.Select(c => c with { Placement = point.Spec }).ToList() }).ToList(),
    };
}
