using Scheduler.Abstractions;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;
using Scheduler.Grains.Checkpoints;

namespace Scheduler.Grains;

public sealed class AccountState
{
    public AccountSetup? Setup { get; set; }
    public SortedDictionary<string, long> Due { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The account's job queues: drain order, dependencies, what each queue is owed.</summary>
    public Core.Batch.BatchAccountModel? Batch { get; set; }
}

/// <summary>
/// A tenant and the simulation's shard: it ticks its clusters one after another in name order, so that
/// account-wide buckets (Fargate launches, RunTask calls) are drawn on in a fixed order, never by arrival.
/// </summary>
[Orleans.Placement.HashBasedPlacement]
public sealed partial class AccountGrain(
    [PersistentState("account", "sim")] IPersistentState<AccountState> state) : Grain, IAccountGrain, ICheckpointedGrain
{
    public Task ReloadAsync() => state.ReadStateAsync();

    public async Task Init(AccountSetup setup)
    {
        state.State.Setup = setup;
        foreach (var c in setup.Account.Clusters)
        {
            await Cluster(c.Name).Init(new ClusterSetup(setup.Run, setup.Account.Id, c, setup.Account.Limits));
            state.State.Due[c.Name] = 0;
        }
        await InitJobQueues(setup);
        await state.WriteStateAsync();
    }

    public async Task<ShardTick> Tick(long nowMs, IReadOnlyList<TimelineAction> inputs)
    {
        var s = state.State;
        var events = new List<SimEvent>();
        // Job queues drain first (their RunTask calls go to their clusters as inputs); SubmitJob is the account's own.
        var jobTasks = await DrainJobQueues(nowMs, inputs, events);
        var clusterEvents = HasJobQueues ? new List<SimEvent>() : null;
        foreach (var name in s.Due.Keys.ToList())
        {
            var mine = inputs.Where(a => a is not SubmitJobAction && (ClusterOf(a) is null || ClusterOf(a) == name)).ToList();
            if (jobTasks.TryGetValue(name, out var start))
            {
                mine.Add(start);
            }
            if (s.Due[name] > nowMs && mine.Count == 0)
            {
                continue;
            }
            var result = await Cluster(name).Tick(nowMs, mine);
            _ticked.Add(name);
            s.Due[name] = result.NextDueMs;
            events.AddRange(result.Events);
            clusterEvents?.AddRange(result.Events);
        }
        if (clusterEvents is not null)
        {
            await ObserveJobTasks(nowMs, clusterEvents, events);
        }
        return new ShardTick(Math.Min(s.Due.Values.DefaultIfEmpty(long.MaxValue).Min(), NextJobQueueStepMs(nowMs)), events);
    }

    /// <summary>Clusters ticked since the last checkpoint: only they have state to write (in memory only: after a reactivation every grain is at the last checkpoint).</summary>
    private readonly HashSet<string> _ticked = new(StringComparer.Ordinal);

    public async Task Checkpoint(long nowMs)
    {
        await Task.WhenAll(_ticked.Select(c => Cluster(c).Checkpoint(nowMs)).Concat(CheckpointJobQueues(nowMs)));
        await state.WriteStateAsync();
        _ticked.Clear();
    }

    private static string? ClusterOf(TimelineAction action) => action switch
    {
        RunTaskAction a => a.Cluster,
        UpdateServiceAction a => a.Cluster,
        FailZoneAction a => a.Cluster,
        DrainInstanceAction a => a.Cluster,
        UpdateTaskProtectionAction a => a.Cluster,
        _ => null,
    };

    private IClusterGrain Cluster(string name) =>
        GrainFactory.GetGrain<IClusterGrain>(Keys.Cluster(state.State.Setup!.Run.RunId, state.State.Setup.Account.Id, name));
}
