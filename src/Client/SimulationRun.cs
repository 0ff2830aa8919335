using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Scheduler.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client;

/// <summary>Progress of a run as the client sees it between two RunFor calls.</summary>
public sealed record RunStatus(long SimulatedMs, long EndMs, long Ticks, long Events);

/// <summary>
/// Drives one run: starts the simulation grain, calls RunFor in wall-clock slices (so no grain call runs
/// long and progress shows between them), writes events.jsonl as the events arrive, folds them into the summary and metrics.csv as they come, and writes
/// summary.json, metrics.csv and report.html at the end.
/// </summary>
public static class SimulationRun
{
    public static readonly JsonSerializerOptions SummaryJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Where <c>--explain</c> writes how a task was placed.</summary>
    public static string ExplanationPath(string outDir, string task) =>
        Path.Combine(outDir, $"explain-{string.Concat(task.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'))}.txt");

    public static async Task<RunSummary> RunAsync(IGrainFactory grains, Scenario scenario, InstanceTypeCatalog catalog,
        string outDir, Action<RunStatus>? progress = null, int sliceMs = 250, CancellationToken cancellation = default,
        string? explainTask = null, TimeSpan? metricsInterval = null, IReadOnlyList<Threshold>? thresholds = null)
    {
        var clock = Stopwatch.StartNew();
        var runId = $"run-{Guid.NewGuid():N}";
        var sim = grains.GetGrain<ISimulationGrain>(runId);
        await sim.Start(new SimulationSetup(runId, scenario, catalog.Types, explainTask));
        var endMs = SimulationLimits.EndMs(scenario);
        var summary = new SummaryBuilder(catalog, scenario);
        var metrics = new MetricsRecorder(summary, scenario, metricsInterval);
        Directory.CreateDirectory(outDir);
        var eventsPath = Path.Combine(outDir, "events.jsonl");
        long simulated = 0, ticks = 0, count = 0;
        await using (var file = new FileStream(eventsPath, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16))
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 16);
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                var p = await sim.RunFor(sliceMs);
                foreach (var e in p.Events)
                {
                    EventJson.WriteLine(e, buffer);
                    summary.Observe(e);
                    metrics.Observe(e);
                    if (buffer.WrittenCount > 1 << 20)
                    {
                        await file.WriteAsync(buffer.WrittenMemory, cancellation);
                        buffer.ResetWrittenCount();
                    }
                }
                await file.WriteAsync(buffer.WrittenMemory, cancellation);
                buffer.ResetWrittenCount();
                count += p.Events.Count;
                simulated = p.SimulatedMs;
                ticks = p.Ticks;
                progress?.Invoke(new RunStatus(simulated, endMs, ticks, count));
                if (p.Done)
                {
                    break;
                }
            }
        }
        var result = summary.Build(scenario.Name, scenario.Seed, simulated, clock.Elapsed.TotalSeconds, ticks);
        await File.WriteAllTextAsync(Path.Combine(outDir, "summary.json"), JsonSerializer.Serialize(result, SummaryJson) + "\n", cancellation);
        metrics.Finish(simulated);
        await using (var csv = new StreamWriter(Path.Combine(outDir, "metrics.csv")))
        {
            metrics.WriteCsv(csv);
        }
        await Report.RunReport.WriteAsync(Path.Combine(outDir, "report.html"), result, metrics, summary.TimeToRunningMs,
            Thresholds.Evaluate(thresholds ?? [], result), cancellation);
        if (explainTask is not null)
        {
            var lines = new List<string>();
            foreach (var account in scenario.Accounts)
            {
                foreach (var cluster in account.Clusters)
                {
                    lines.AddRange(await grains.GetGrain<IPlacementGrain>(Keys.Cluster(runId, account.Id, cluster.Name)).Explanation());
                }
            }
            await File.WriteAllLinesAsync(ExplanationPath(outDir, explainTask), lines, cancellation);
        }
        return result;
    }
}
