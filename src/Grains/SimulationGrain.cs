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
        s.EndMs = SimulationLimits.EndMs(scenario);
        var settings = new RunSettings(setup.RunId, scenario.Seed, s.TickMs, scenario.InitialAmi, setup.Catalog, scenario.Start, setup.ExplainTask, scenario.LaunchPipeline, scenario.Runtime);
        await Task.WhenAll(scenario.Accounts.Select(a =>
            GrainFactory.GetGrain<IAccountGrain>(Keys.Account(setup.RunId, a.Id)).Init(new AccountSetup(settings, a))));
        foreach (var a in scenario.Accounts)
        {
            s.Due[a.Id] = 0;
        }
        await state.WriteStateAsync();
    }

    public async Task<RunProgress> RunFor(int wallBudgetMs)
    {
        var s = state.State;
        var setup = s.Setup ?? throw new InvalidOperationException("run not started");
        var timeline = setup.Scenario.Timeline;
        var events = new List<SimEvent>();
        var clock = Stopwatch.StartNew();
        while (!s.Done && clock.ElapsedMilliseconds < wallBudgetMs)
        {
            var next = s.Due.Count == 0 ? long.MaxValue : s.Due.Values.Min();
            if (s.NextTimeline < timeline.Count)
            {
                next = Math.Min(next, AlignUp((long)timeline[s.NextTimeline].At.TotalMilliseconds, s.TickMs));
            }
            if (next == long.MaxValue || next > s.EndMs)
            {
                // Nothing left before the end: the clock jumps to the end (or stops where it settled).
                s.NowMs = next == long.MaxValue && setup.Scenario.UntilSettled ? s.NowMs : s.EndMs;
                s.Done = true;
                break;
            }
            var inputs = new Dictionary<string, List<TimelineAction>>(StringComparer.Ordinal);
            while (s.NextTimeline < timeline.Count && AlignUp((long)timeline[s.NextTimeline].At.TotalMilliseconds, s.TickMs) == next)
            {
                var action = timeline[s.NextTimeline++].Action;
                foreach (var account in Targets(action, setup.Scenario))
                {
                    (inputs.TryGetValue(account, out var list) ? list : inputs[account] = []).Add(action);
                }
            }
            var shards = s.Due.Where(kv => kv.Value <= next || inputs.ContainsKey(kv.Key)).Select(kv => kv.Key).ToList();
            var results = await Task.WhenAll(shards.Select(id =>
                GrainFactory.GetGrain<IAccountGrain>(Keys.Account(setup.RunId, id))
                    .Tick(next, inputs.TryGetValue(id, out var list) ? list : [])));
            for (var i = 0; i < shards.Count; i++)
            {
                s.Due[shards[i]] = results[i].NextDueMs;
                events.AddRange(results[i].Events);
            }
            s.NowMs = next;
            s.Ticks++;
        }
        await Checkpoint();
        return new RunProgress(s.NowMs, s.Done, s.Ticks, events);
    }

    /// <summary>
    /// Persists every shard at the current simulated time, then the clock itself, so that a restarted
    /// run resumes from one consistent checkpoint.
    /// </summary>
    private async Task Checkpoint()
    {
        var s = state.State;
        await Task.WhenAll(s.Due.Keys.Select(id =>
            GrainFactory.GetGrain<IAccountGrain>(Keys.Account(s.Setup!.RunId, id)).Checkpoint(s.NowMs)));
        await state.WriteStateAsync();
    }

    private static IEnumerable<string> Targets(TimelineAction action, Scenario scenario) => action switch
    {
        RunTaskAction a => [a.Account],
        UpdateServiceAction a => [a.Account],
        FailZoneAction a => [a.Account],
        DrainInstanceAction a => [a.Account],
        UpdateTaskProtectionAction a => [a.Account],
        // An AMI release is global: every account's instances boot it from now on.
        ReleaseAmiAction => scenario.Accounts.Select(a => a.Id),
        _ => [],
    };

    public static long AlignUp(long ms, long tickMs) => ms <= 0 ? 0 : (ms + tickMs - 1) / tickMs * tickMs;
}
