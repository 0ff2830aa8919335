using System.Diagnostics;
using Scheduler.Abstractions;
using Scheduler.Core.Cluster;
using Scheduler.Grains.Checkpoints;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Grains;

public sealed class SimulationState
{
    public SimulationSetup? Setup { get; set; }
    public long NowMs { get; set; }
    public long EndMs { get; set; }
    public long TickMs { get; set; }
    public long Ticks { get; set; }
    public int NextTimeline { get; set; }
    public bool Done { get; set; }
    /// <summary>Next due time of each account shard, by account id.</summary>
    public SortedDictionary<string, long> Due { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The round under way (its shards tick in batches, and a RunFor call may end between two): its time.</summary>
    public long RoundAtMs { get; set; }
    /// <summary>Its shards not yet ticked, in account order; empty between rounds.</summary>
    public List<string> RoundShards { get; set; } = [];
    /// <summary>Its timeline entries: indexes [from, to) of the scenario's timeline.</summary>
    public int RoundTimelineFrom { get; set; }
    public int RoundTimelineTo { get; set; }
    /// <summary>Live calls not yet delivered, in order of their (tick-aligned) times; the round under way's are in <see cref="RoundLive"/>.</summary>
    public List<TimelineEntry> Live { get; set; } = [];
    public List<TimelineEntry> RoundLive { get; set; } = [];
    /// <summary>Events emitted so far.</summary>
    public long Events { get; set; }
    /// <summary>Events emitted up to the last committed checkpoint: what a resumed run has already delivered.</summary>
    public long CommittedEvents { get; set; }
    /// <summary>Checkpoints committed, and the wall time they took in all (their cost: reported in the summary, never in the log).</summary>
    public long Checkpoints { get; set; }
    public double CheckpointSeconds { get; set; }
    /// <summary>The last committed checkpoint: every grain of the run can be rolled back to it.</summary>
    public long Committed { get; set; } = -1;
    /// <summary>Raised each time the run resumes after a failure; grains ahead of the checkpoint reload on their first call of a new epoch.</summary>
    public long Epoch { get; set; }
    /// <summary>
    /// Checkpoint numbers that may have been written in part when the run failed (at most one per failure: the one after
    /// the committed checkpoint). Copies stamped with them are never read, and the numbers are not used again.
    /// </summary>
    public List<long> Aborted { get; set; } = [];

    /// <summary>The number of the next checkpoint.</summary>
    public long NextCheckpoint() => Math.Max(Committed, Aborted.Count == 0 ? -1 : Aborted.Max()) + 1;
}

/// <summary>
/// The run's clock. Each round takes every account due at the smallest due time, ticks them in parallel
/// (accounts are independent), and merges their events in account order, so the log does not depend on
/// which silo answered first. Idle time costs nothing: the clock jumps to the next due time.
/// Its own stored state is the commit record of the run's checkpoints: it is written only when a checkpoint is
/// complete, so after a failure it says where every grain of the run resumes.
/// </summary>
public sealed class SimulationGrain(
    [PersistentState("simulation", CheckpointStores.Clock)] IPersistentState<SimulationState> state,
    IClusterMembershipService membership) : Grain, ISimulationGrain
{
    /// <summary>The silos that were active when this activation last looked.</summary>
    private HashSet<SiloAddress>? _silos;

    /// <summary>
    /// Fails the call when a silo that was active has left the cluster since the last look: the grains it held lost
    /// what they did since their last checkpoint, and Orleans activates them again elsewhere from the store, behind
    /// the rest of the run. Nothing after the last committed checkpoint may be kept, so the run resumes from it.
    /// </summary>
    private void WatchSilos()
    {
        var active = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToHashSet();
        var lost = _silos?.Where(s => !active.Contains(s)).ToList() ?? [];
        _silos = active;
        if (lost.Count > 0)
        {
            throw new SiloLostException($"silo {string.Join(", ", lost)} left the cluster; the run resumes from its last checkpoint");
        }
    }

    public async Task Start(SimulationSetup setup)
    {
        var s = state.State;
        if (s.Setup is not null)
        {
            throw new InvalidOperationException($"run {setup.RunId} was already started");
        }
        var scenario = setup.Scenario;
        s.Setup = setup;
        s.TickMs = (long)scenario.Tick.TotalMilliseconds;
        // A live run has no end of its own: it runs until the server stops.
        s.EndMs = setup.Live ? long.MaxValue : SimulationLimits.EndMs(scenario);
        // The grains' initial states are checkpoint 0, committed with the clock's first write.
        CheckpointContext.Set(s.Epoch, s.Committed, s.Aborted, writing: 0);
        var settings = new RunSettings(setup.RunId, scenario.Seed, s.TickMs, scenario.InitialAmi, setup.Catalog, scenario.Start, setup.ExplainTask, scenario.LaunchPipeline, scenario.Runtime);
        await Task.WhenAll(scenario.Accounts.Select(a =>
            GrainFactory.GetGrain<IAccountGrain>(Keys.Account(setup.RunId, a.Id)).Init(new AccountSetup(settings, a))));
        foreach (var a in scenario.Accounts)
        {
            s.Due[a.Id] = 0;
        }
        s.Committed = 0;
        await state.WriteStateAsync();
        WatchSilos();
        _checkpointWait = CheckpointWait(setup);
    }

    public async Task<ResumePoint> Resume()
    {
        // Back to the last committed checkpoint (this activation may be ahead of it, or new after its silo died),
        // in a new epoch: each grain of the run reloads the same checkpoint on its first call of the new epoch.
        _prepared = null;
        await state.ReadStateAsync();
        var s = state.State;
        if (s.Setup is null)
        {
            throw new InvalidOperationException($"run {this.GetPrimaryKeyString()} was never started");
        }
        s.Epoch++;
        s.Aborted.Add(s.NextCheckpoint());
        await state.WriteStateAsync();
        _silos = null;
        WatchSilos();
        _ticked.Clear();
        _sinceCheckpoint.Restart();
        _checkpointWait = CheckpointWait(s.Setup);
        return new ResumePoint(s.NowMs, s.Ticks, s.Events, s.Epoch);
    }

    private static TimeSpan CheckpointWait(SimulationSetup setup) =>
        setup.CheckpointIntervalMs is { } ms ? TimeSpan.FromMilliseconds(ms) : CheckpointInterval;

    /// <summary>Shards ticked at once: bounded fan-out, and the wall budget is checked between batches.</summary>
    public const int ShardBatch = 32;

    /// <summary>
    /// Least wall time between two checkpoints: writing every changed grain at the end of each RunFor call
    /// would dominate a large run. A finished run needs no resume point and writes none.
    /// </summary>
    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(30);

    /// <summary>Checkpoints take at most about a fifth of the wall time: the next waits four times as long as the last took.</summary>
    private const int CheckpointSpacing = 4;

    private readonly Stopwatch _sinceCheckpoint = Stopwatch.StartNew();
    private TimeSpan _checkpointWait = CheckpointInterval;

    /// <summary>Accounts ticked since the last checkpoint: only they have state to write.</summary>
    private readonly HashSet<string> _ticked = new(StringComparer.Ordinal);

    public Task<RunProgress> RunFor(int wallBudgetMs) => Run(wallBudgetMs, long.MaxValue);

    /// <summary>
    /// Pacing is this horizon: a live driver lets the clock reach only what the wall clock allows, and hands in the
    /// calls it accepted, each stamped at a tick no round has begun at yet.
    /// </summary>
    public Task<RunProgress> RunUntil(int wallBudgetMs, long horizonMs, IReadOnlyList<TimelineEntry> calls)
    {
        var s = state.State;
        foreach (var call in calls)
        {
            var at = (long)call.At.TotalMilliseconds;
            if (at <= s.RoundAtMs && (s.Ticks > 0 || s.RoundShards.Count > 0) || at % s.TickMs != 0
                || s.Live.Count > 0 && s.Live[^1].At > call.At)
            {
                throw new ArgumentException($"live call at {at} ms is not on a tick after the last round ({s.RoundAtMs} ms), in order", nameof(calls));
            }
            s.Live.Add(call);
        }
        return Run(wallBudgetMs, horizonMs);
    }

    private async Task<RunProgress> Run(int wallBudgetMs, long horizonMs)
    {
        var s = state.State;
        var setup = s.Setup ?? throw new InvalidOperationException("run not started");
        WatchSilos();
        await CommitCheckpoint(setup);
        CheckpointContext.Set(s.Epoch, s.Committed, s.Aborted);
        var events = new List<SimEvent>();
        var clock = Stopwatch.StartNew();
        var atHorizon = false;
        while (!s.Done && clock.ElapsedMilliseconds < wallBudgetMs)
        {
            if (s.RoundShards.Count == 0 && !BeginRound(s, setup.Scenario, horizonMs))
            {
                atHorizon = !s.Done;
                break;
            }
            // The round's shards tick in account order, a batch at a time; a call whose budget runs out ends
            // between two batches and the next call carries on with the same round. Accounts are independent
            // and their events are appended in account order, so the log is the same however the round is cut.
            var inputs = Inputs(s, setup.Scenario);
            while (s.RoundShards.Count > 0)
            {
                var batch = s.RoundShards.Take(ShardBatch).ToList();
                var results = await Task.WhenAll(batch.Select(id =>
                    GrainFactory.GetGrain<IAccountGrain>(Keys.Account(setup.RunId, id))
                        .Tick(s.RoundAtMs, inputs.TryGetValue(id, out var list) ? list : [])));
                for (var i = 0; i < batch.Count; i++)
                {
                    s.Due[batch[i]] = results[i].NextDueMs;
                    events.AddRange(results[i].Events);
                    _ticked.Add(batch[i]);
                }
                s.RoundShards.RemoveRange(0, batch.Count);
                if (clock.ElapsedMilliseconds >= wallBudgetMs)
                {
                    break;
                }
            }
            if (s.RoundShards.Count == 0)
            {
                s.NowMs = s.RoundAtMs;
                s.Ticks++;
            }
        }
        s.Events += events.Count;
        if (s.RoundShards.Count == 0 && !s.Done && _prepared is null && _sinceCheckpoint.Elapsed >= _checkpointWait)
        {
            // Only between rounds, so that every shard is at the same simulated time.
            await PrepareCheckpoint(setup);
        }
        WatchSilos();
        return new RunProgress(s.NowMs, s.Done, s.Ticks, events, atHorizon, s.CommittedEvents, s.Checkpoints, s.CheckpointSeconds);
    }

    /// <summary>
    /// Starts the next round: the smallest due time of the shards and the timeline, the timeline entries
    /// aligned to it, and the shards due then or with input. Returns false (and marks the run done) when
    /// nothing is left before the end.
    /// </summary>
    private static bool BeginRound(SimulationState s, Scenario scenario, long horizonMs)
    {
        var timeline = scenario.Timeline;
        var next = s.Due.Count == 0 ? long.MaxValue : s.Due.Values.Min();
        if (s.NextTimeline < timeline.Count)
        {
            next = Math.Min(next, AlignUp((long)timeline[s.NextTimeline].At.TotalMilliseconds, s.TickMs));
        }
        if (s.Live.Count > 0)
        {
            next = Math.Min(next, (long)s.Live[0].At.TotalMilliseconds);
        }
        if (next == long.MaxValue ? s.Setup!.Live : next >= horizonMs)
        {
            // Paced: the wall clock has not reached it yet (or, live, nothing is due until a call comes in).
            return false;
        }
        if (next == long.MaxValue || next > s.EndMs)
        {
            // Nothing left before the end: the clock jumps to the end (or stops where it settled).
            s.NowMs = next == long.MaxValue && scenario.UntilSettled ? s.NowMs : s.EndMs;
            s.Done = true;
            return false;
        }
        s.RoundAtMs = next;
        s.RoundTimelineFrom = s.NextTimeline;
        while (s.NextTimeline < timeline.Count && AlignUp((long)timeline[s.NextTimeline].At.TotalMilliseconds, s.TickMs) == next)
        {
            s.NextTimeline++;
        }
        s.RoundTimelineTo = s.NextTimeline;
        s.RoundLive.Clear();
        while (s.Live.Count > 0 && (long)s.Live[0].At.TotalMilliseconds == next)
        {
            s.RoundLive.Add(s.Live[0]);
            s.Live.RemoveAt(0);
        }
        var inputs = Inputs(s, scenario);
        s.RoundShards = s.Due.Where(kv => kv.Value <= next || inputs.ContainsKey(kv.Key)).Select(kv => kv.Key).ToList();
        return true;
    }

    /// <summary>The current round's timeline actions by target account, in timeline order (live calls after the scenario's own, as on replay).</summary>
    private static Dictionary<string, List<TimelineAction>> Inputs(SimulationState s, Scenario scenario)
    {
        var inputs = new Dictionary<string, List<TimelineAction>>(StringComparer.Ordinal);
        var count = s.RoundTimelineTo - s.RoundTimelineFrom;
        for (var k = 0; k < count + s.RoundLive.Count; k++)
        {
            var action = k < count ? scenario.Timeline[s.RoundTimelineFrom + k].Action : s.RoundLive[k - count].Action;
            foreach (var account in Targets(action, scenario))
            {
                (inputs.TryGetValue(account, out var list) ? list : inputs[account] = []).Add(action);
            }
        }
        return inputs;
    }

    /// <summary>
    /// Persists every shard ticked since the last checkpoint at the current simulated time, then the clock
    /// itself, so that a restarted run resumes from one consistent checkpoint.
    /// </summary>
    /// <summary>
    /// Has every grain ticked since the last checkpoint write its copy of checkpoint <c>Committed + 1</c>, all at the
    /// current simulated time. The checkpoint is committed by the next <see cref="RunFor"/> call: by then the client
    /// has this call's events, so a committed checkpoint never stands after events the client did not receive.
    /// </summary>
    private async Task PrepareCheckpoint(SimulationSetup setup)
    {
        var s = state.State;
        var clock = Stopwatch.StartNew();
        var generation = s.NextCheckpoint();
        CheckpointContext.Set(s.Epoch, s.Committed, s.Aborted, writing: generation);
        var ticked = _ticked.Order(StringComparer.Ordinal).ToList();
        for (var i = 0; i < ticked.Count; i += ShardBatch)
        {
            await Task.WhenAll(ticked.Skip(i).Take(ShardBatch).Select(id =>
                GrainFactory.GetGrain<IAccountGrain>(Keys.Account(setup.RunId, id)).Checkpoint(s.NowMs)));
        }
        CheckpointContext.Set(s.Epoch, s.Committed, s.Aborted);
        _ticked.Clear();
        _prepared = (generation, clock.Elapsed);
    }

    /// <summary>The prepared checkpoint and the wall time it took, until it is committed.</summary>
    private (long Generation, TimeSpan Took)? _prepared;

    /// <summary>Commits the prepared checkpoint: the clock's own write is what makes it the one a failed run resumes from.</summary>
    private async Task CommitCheckpoint(SimulationSetup setup)
    {
        if (_prepared is not { } prepared)
        {
            return;
        }
        _prepared = null;
        var s = state.State;
        var clock = Stopwatch.StartNew();
        var before = (s.Committed, s.CommittedEvents, s.Checkpoints, s.CheckpointSeconds);
        s.Committed = prepared.Generation;
        s.CommittedEvents = s.Events;
        s.Checkpoints++;
        s.CheckpointSeconds += prepared.Took.TotalSeconds;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            (s.Committed, s.CommittedEvents, s.Checkpoints, s.CheckpointSeconds) = before;
            throw;
        }
        var took = prepared.Took + clock.Elapsed;
        s.CheckpointSeconds += clock.Elapsed.TotalSeconds;
        _checkpointWait = TimeSpan.FromTicks(Math.Max(CheckpointWait(setup).Ticks, took.Ticks * CheckpointSpacing));
        _sinceCheckpoint.Restart();
    }

    private static IEnumerable<string> Targets(TimelineAction action, Scenario scenario) => action switch
    {
        RunTaskAction a => [a.Account],
        UpdateServiceAction a => [a.Account],
        FailZoneAction a => [a.Account],
        DrainInstanceAction a => [a.Account],
        UpdateTaskProtectionAction a => [a.Account],
        CreateClusterAction a => [a.Account],
        RegisterTaskDefinitionAction a => [a.Account],
        CreateServiceAction a => [a.Account],
        StopTaskAction a => [a.Account],
        SubmitJobAction a => [a.Account],
        CreateJobQueueAction a => [a.Account],
        CancelJobAction a => [a.Account],
        // An AMI release is global: every account's instances boot it from now on.
        ReleaseAmiAction => scenario.Accounts.Select(a => a.Id),
        _ => [],
    };

    public static long AlignUp(long ms, long tickMs) => Core.Cluster.ClusterStep.AlignUp(ms, tickMs);
}

/// <summary>A silo left the cluster in the middle of a run: the run must resume from its last committed checkpoint.</summary>
[GenerateSerializer, Alias("silo-lost")]
public sealed class SiloLostException(string message) : Exception(message);
