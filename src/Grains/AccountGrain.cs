using Scheduler.Abstractions;
using Scheduler.Core.Cluster;
using Scheduler.Core.Engine;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;
using Scheduler.Grains.Checkpoints;

namespace Scheduler.Grains;

public sealed class AccountState
{
    public AccountSetup? Setup { get; set; }
    public SortedDictionary<string, long> Due { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The account's task definitions (the scenario's, then registered ones): a cluster created later knows them all.</summary>
    public List<TaskDefinitionSpec> TaskDefinitions { get; set; } = [];
    /// <summary>Capacity type of each capacity provider, by "cluster/provider".</summary>
    public SortedDictionary<string, CapacityType> ProviderTypes { get; set; } = new(StringComparer.Ordinal);
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
            Remember(c);
        }
        await InitJobQueues(setup);
        await state.WriteStateAsync();
    }

    public async Task<ShardTick> Tick(long nowMs, IReadOnlyList<TimelineAction> inputs)
    {
        var s = state.State;
        var events = new List<SimEvent>();
        // Account-level inputs first (an API front door's admitted RunTask calls draw before anything else), then
        // the job queues drain (their RunTask calls go to their clusters as inputs); SubmitJob is the account's own.
        await AccountInputs(nowMs, inputs);
        var jobTasks = await DrainJobQueues(nowMs, inputs, events);
        var clusterEvents = HasJobQueues ? new List<SimEvent>() : null;
        foreach (var name in s.Due.Keys.ToList())
        {
            var mine = inputs.Where(a => a is not (SubmitJobAction or CreateJobQueueAction or CancelJobAction) && (ClusterOf(a) is null || ClusterOf(a) == name)).ToList();
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

    /// <summary>
    /// What belongs to the account before its clusters tick: task definitions it registers, clusters it creates, and
    /// the bucket tokens of RunTask calls an API front door admitted (it promised them against these buckets as they
    /// stand before anything else draws in this tick, so they are drawn first, in call order).
    /// </summary>
    private async Task AccountInputs(long nowMs, IReadOnlyList<TimelineAction> inputs)
    {
        var s = state.State;
        var setup = s.Setup!;
        foreach (var input in inputs)
        {
            switch (input)
            {
                case RegisterTaskDefinitionAction register:
                    AddTaskDefinition(register.TaskDefinition);
                    break;
                case CreateClusterAction create when !s.Due.ContainsKey(create.Cluster.Name):
                    var spec = create.Cluster with { TaskDefinitions = s.TaskDefinitions.ToList() };
                    await Cluster(spec.Name).Init(new ClusterSetup(setup.Run, setup.Account.Id, spec, setup.Account.Limits));
                    s.Due[spec.Name] = nowMs;
                    Remember(spec);
                    break;
                case CreateJobQueueAction queue:
                    await CreateJobQueue(queue);
                    break;
                case RunTaskAction { TaskIds: { } ids } run:
                    await Bucket(BucketNames.RunTask).TryAcquire(nowMs, 1, BucketNames.Limit(setup.Account.Limits, BucketNames.RunTask));
                    if (ids.Count > 0 && s.ProviderTypes.TryGetValue($"{run.Cluster}/{run.CapacityProvider}", out var type)
                        && BucketNames.LaunchBucket(type) is { } launch)
                    {
                        await Bucket(launch).TryAcquire(nowMs, ids.Count, BucketNames.Limit(setup.Account.Limits, launch));
                    }
                    break;
            }
        }
    }

    private void Remember(ClusterSpec cluster)
    {
        foreach (var cp in cluster.CapacityProviders)
        {
            state.State.ProviderTypes[$"{cluster.Name}/{cp.Name}"] = cp.Type;
        }
        foreach (var td in cluster.TaskDefinitions)
        {
            AddTaskDefinition(td);
        }
    }

    private void AddTaskDefinition(TaskDefinitionSpec td)
    {
        if (!state.State.TaskDefinitions.Any(d => d.Family == td.Family && d.Revision == td.Revision))
        {
            state.State.TaskDefinitions.Add(td);
        }
    }

    private static string? ClusterOf(TimelineAction action) => action switch
    {
        CreateClusterAction a => a.Cluster.Name,
        CreateServiceAction a => a.Cluster,
        StopTaskAction a => a.Cluster,
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
