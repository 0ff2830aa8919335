using System.Diagnostics;
using Scheduler.Abstractions;
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
}

/// <summary>
/// The run's clock. Each round takes every account due at the smallest due time, ticks them in parallel
/// (accounts are independent), and merges their events in account order, so the log does not depend on
/// which silo answered first. Idle time costs nothing: the clock jumps to the next due time.
/// </summary>
public sealed class SimulationGrain(
    [PersistentState("simulation", "sim")] IPersistentState<SimulationState> state) : Grain, ISimulationGrain
{
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
        var settings = new RunSettings(setup.RunId, scenario.Seed, s.TickMs, scenario.InitialAmi, setup.Catalog, scenario.Start, setup.ExplainTask, scenario.LaunchPipeline, scenario.Runtime);
        await Task.WhenAll(scenario.Accounts.Select(a =>
            GrainFactory.GetGrain<IAccountGrain>(Keys.Account(setup.RunId, a.Id)).Init(new AccountSetup(settings, a))));
        foreach (var a in scenario.Accounts)
        {
            s.Due[a.Id] = 0;
        }
        await state.WriteStateAsync();
    }

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
        if (s.RoundShards.Count == 0 && !s.Done && _sinceCheckpoint.Elapsed >= _checkpointWait)
        {
            // Only between rounds, so that every shard is at the same simulated time.
            await Checkpoint();
        }
        return new RunProgress(s.NowMs, s.Done, s.Ticks, events, atHorizon);
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
    private async Task Checkpoint()
    {
        var s = state.State;
        var clock = Stopwatch.StartNew();
        var ticked = _ticked.Order(StringComparer.Ordinal).ToList();
        for (var i = 0; i < ticked.Count; i += ShardBatch)
        {
            await Task.WhenAll(ticked.Skip(i).Take(ShardBatch).Select(id =>
                GrainFactory.GetGrain<IAccountGrain>(Keys.Account(s.Setup!.RunId, id)).Checkpoint(s.NowMs)));
        }
        await state.WriteStateAsync();
        _ticked.Clear();
        _checkpointWait = TimeSpan.FromTicks(Math.Max(CheckpointInterval.Ticks, clock.Elapsed.Ticks * CheckpointSpacing));
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
        // An AMI release is global: every account's instances boot it from now on.
        ReleaseAmiAction => scenario.Accounts.Select(a => a.Id),
        _ => [],
    };

    public static long AlignUp(long ms, long tickMs) => ms <= 0 ? 0 : (ms + tickMs - 1) / tickMs * tickMs;
}
