using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Scheduler.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client;

/// <summary>Progress of a run as the client sees it between two RunFor calls; <paramref name="Note"/> says what happened when the run had to wait.</summary>
public sealed record RunStatus(long SimulatedMs, long EndMs, long Ticks, long Events, string? Note = null);

/// <summary>
/// How a run survives the loss of a silo. <paramref name="Resumable"/>: on a cluster of silo processes over a
/// shared store, a failed RunFor call is answered by resuming the run from its last committed checkpoint; the client
/// keeps the events after that checkpoint in memory until a later checkpoint is committed, so the log never holds an
/// event twice. Checkpoints are taken every <paramref name="CheckpointIntervalMs"/> of wall time at least.
/// </summary>
public sealed record RunResilience(bool Resumable, int? CheckpointIntervalMs = null)
{
    /// <summary>A checkpoint interval that no run reaches: the run takes no checkpoint after its start.</summary>
    public const int NoCheckpoints = int.MaxValue;

    /// <summary>
    /// Silos in this process on their memory store: a lost silo takes the process, and the store with it, so nothing
    /// could resume from a checkpoint and none is taken (writing one serialized every grain called since the last).
    /// </summary>
    public static readonly RunResilience Embedded = new(false, NoCheckpoints);

    /// <summary>Checkpoint spacing on a real store: a lost silo costs at most about this much work again.</summary>
    public static readonly RunResilience Connected = new(true, 2_000);

    /// <summary>How long the client keeps trying to resume after a failure before it gives up.</summary>
    public static readonly TimeSpan ResumePatience = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Failures in a row with no checkpoint committed in between before the client gives up: a fault that is not a
    /// lost silo comes back every time. Until membership has declared a killed silo dead (a few seconds), each
    /// attempt may fail again.
    /// </summary>
    public const int FailuresPerCheckpoint = 20;
}

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
    public static string ExplanationPath(string outDir, string task)
    {
        var safe = string.Concat(task.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        if (safe.Length > 200)
        {
            // A file name holds at most 255 bytes (ASCII here): a long task id keeps its start and a digest of the whole id.
            var digest = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(task)));
            safe = safe[..160] + "-" + digest[..16];
        }
        return Path.Combine(outDir, $"explain-{safe}.txt");
    }

    public static async Task<RunSummary> RunAsync(IGrainFactory grains, Scenario scenario, InstanceTypeCatalog catalog,
        string outDir, Action<RunStatus>? progress = null, int sliceMs = 250, CancellationToken cancellation = default,
        string? explainTask = null, TimeSpan? metricsInterval = null, IReadOnlyList<Threshold>? thresholds = null,
        Func<string>? interruptReason = null, RunResilience? resilience = null)
    {
        resilience ??= RunResilience.Embedded;
        var clock = Stopwatch.StartNew();
        var runId = $"run-{Guid.NewGuid():N}";
        var countersBefore = await ClusterFigures.CountersAsync(grains);
        var sim = grains.GetGrain<ISimulationGrain>(runId);
        await sim.Start(new SimulationSetup(runId, scenario, catalog.Types, explainTask, CheckpointIntervalMs: resilience.CheckpointIntervalMs));
        var endMs = SimulationLimits.EndMs(scenario);
        var summary = new SummaryBuilder(catalog, scenario);
        var metrics = new MetricsRecorder(summary, scenario, metricsInterval);
        Directory.CreateDirectory(outDir);
        var eventsPath = Path.Combine(outDir, "events.jsonl");
        long simulated = 0, ticks = 0, delivered = 0;
        RunProgress? last = null;
        // Events received but not yet covered by a committed checkpoint: a resumed run produces them again.
        var pending = new List<SimEvent>();
        var resumes = 0;
        var stalled = TimeSpan.Zero;
        var failuresHere = 0;
        var interrupted = false;
        await using (var file = new FileStream(eventsPath, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16))
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 16);
            async Task Deliver(long upTo)
            {
                var n = (int)Math.Min(pending.Count, upTo - delivered);
                if (n <= 0)
                {
                    return;
                }
                for (var i = 0; i < n; i++)
                {
                    var e = pending[i];
                    EventJson.WriteLine(e, buffer);
                    summary.Observe(e);
                    metrics.Observe(e);
                    if (buffer.WrittenCount > 1 << 20)
                    {
                        await file.WriteAsync(buffer.WrittenMemory, CancellationToken.None);
                        buffer.ResetWrittenCount();
                    }
                }
                // Whole slices only, so an interrupted log ends with a complete line.
                await file.WriteAsync(buffer.WrittenMemory, CancellationToken.None);
                buffer.ResetWrittenCount();
                pending.RemoveRange(0, n);
                delivered += n;
            }

            while (true)
            {
                if (cancellation.IsCancellationRequested)
                {
                    // Stopped from outside: keep what was received and say so in the summary.
                    interrupted = true;
                    await Deliver(delivered + pending.Count);
                    break;
                }
                RunProgress p;
                try
                {
                    p = await sim.RunFor(sliceMs);
                }
                catch (Exception e) when (resilience.Resumable && e is not OperationCanceledException)
                {
                    if (++failuresHere > RunResilience.FailuresPerCheckpoint)
                    {
                        throw;
                    }
                    var waited = Stopwatch.StartNew();
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
                    progress?.Invoke(new RunStatus(simulated, endMs, ticks, delivered + pending.Count,
                        $"a silo failed ({e.GetType().Name}: {FirstLine(e.Message)}); waiting for the cluster to resume from the last checkpoint"));
                    var point = await ResumeAsync(sim, cancellation);
                    resumes++;
                    stalled += waited.Elapsed;
                    if (point.Events < delivered)
                    {
                        throw new InvalidOperationException($"the run resumed at event {point.Events}, before the {delivered} already written");
                    }
                    // What the checkpoint covers is final; what came after it comes again.
                    await Deliver(point.Events);
                    pending.Clear();
                    simulated = point.SimulatedMs;
                    ticks = point.Ticks;
                    progress?.Invoke(new RunStatus(simulated, endMs, ticks, delivered,
                        $"resumed from the checkpoint at simulated {Duration.Format(TimeSpan.FromMilliseconds(simulated))} after {waited.Elapsed.TotalSeconds:F1} s"));
                    continue;
                }
                pending.AddRange(p.Events);
                var durable = p.Done || !resilience.Resumable ? delivered + pending.Count : p.DurableEvents;
                if (durable > delivered)
                {
                    failuresHere = 0;
                }
                await Deliver(durable);
                simulated = p.SimulatedMs;
                ticks = p.Ticks;
                last = p;
                progress?.Invoke(new RunStatus(simulated, endMs, ticks, delivered + pending.Count));
                if (p.Done)
                {
                    break;
                }
            }
        }
        var figures = resilience.Resumable
            ? await AfterFailuresAsync(() => ClusterFigures.CollectAsync(grains, runId, countersBefore), cancellation)
            : await ClusterFigures.CollectAsync(grains, runId, countersBefore);
        var result = summary.Build(scenario.Name, scenario.Seed, simulated, clock.Elapsed.TotalSeconds, ticks) with
        {
            Silos = figures.Silos,
            ActivationsPerSilo = figures.ActivationsPerSilo,
            CrossSiloMessages = figures.CrossSiloMessages,
            Checkpoints = last?.Checkpoints ?? 0,
            CheckpointSeconds = Math.Round(last?.CheckpointSeconds ?? 0, 3),
            CheckpointWrites = figures.CheckpointWrites,
            CheckpointWriteSeconds = Math.Round(figures.CheckpointWriteSeconds, 3),
            Resumes = resumes,
            StalledSeconds = Math.Round(stalled.TotalSeconds, 3),
            Interrupted = interrupted,
            InterruptReason = interrupted ? interruptReason?.Invoke() ?? "cancelled" : null,
            HitMaxDuration = !interrupted && scenario.UntilSettled && simulated >= endMs,
        };
        await File.WriteAllTextAsync(Path.Combine(outDir, "summary.json"), JsonSerializer.Serialize(result, SummaryJson) + "\n", CancellationToken.None);
        metrics.Finish(simulated);
        await using (var csv = new StreamWriter(Path.Combine(outDir, "metrics.csv")))
        {
            metrics.WriteCsv(csv);
        }
        await Report.RunReport.WriteAsync(Path.Combine(outDir, "report.html"), result, metrics, summary.TimeToRunningMs,
            Thresholds.Evaluate(thresholds ?? [], result), CancellationToken.None);
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
            await File.WriteAllLinesAsync(ExplanationPath(outDir, explainTask), lines, CancellationToken.None);
        }
        return result;
    }

    /// <summary>
    /// Asks the simulation grain to resume until it answers: while the dead silo is not yet declared dead, calls to
    /// grains it held fail or time out; once membership has removed it, the grains activate on the silos left.
    /// </summary>
    private static async Task<ResumePoint> ResumeAsync(ISimulationGrain sim, CancellationToken cancellation)
    {
        var patience = Stopwatch.StartNew();
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            try
            {
                return await sim.Resume();
            }
            catch (Exception) when (patience.Elapsed < RunResilience.ResumePatience && !cancellation.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellation);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> until it answers, for the calls after the last slice of a run that survived a
    /// silo: until membership has declared the dead silo dead, a call routed through its gateway is refused or
    /// times out, although the run itself is complete.
    /// </summary>
    private static async Task<T> AfterFailuresAsync<T>(Func<Task<T>> call, CancellationToken cancellation)
    {
        var patience = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (e is not OperationCanceledException && patience.Elapsed < RunResilience.ResumePatience
                && !cancellation.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellation);
            }
        }
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
