using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Cluster;

/// <summary>One service's reconciliation in a workflow cycle: its tasks' news, an API change, its unplaceable tasks and its launch allowance.</summary>
public sealed record ServiceCall(string Service, long NowMs, IReadOnlyList<TaskUpdate> Updates, UpdateServiceAction? Update,
    IReadOnlyList<string> Unplaceable, int MaxStarts);

/// <summary>What a service is told when the fleet changes: the draining hosts and the zones it may use.</summary>
public sealed record FleetNews(string Service, IReadOnlyList<string> DrainingInstances, IReadOnlyList<string> AvailableZones, bool Rebalancing);

/// <summary>
/// Everything the cluster step asks of the rest of the system: its hosts, its services, the account's rate-limit
/// buckets and the placement view. The step sends its decisions in batches (one call per wave of the tick); each
/// batch goes to different hosts or services, so its commands may run in parallel. The cluster grain implements it
/// with grain calls; a test implements it with the same agents held in memory.
/// </summary>
public interface IClusterFleet
{
    /// <summary>Sends each command to its host (at most one command per host in a batch); returns every host's report, in any order.</summary>
    Task<IReadOnlyList<HostReport>> Send(IReadOnlyList<HostCommand> commands);

    Task InitServices(IReadOnlyList<ServiceSetup> services);

    /// <summary>Reconciles the services (all different), in parallel; the results in call order.</summary>
    Task<IReadOnlyList<ServiceTick>> Reconcile(IReadOnlyList<ServiceCall> calls);

    Task UpdateFleet(IReadOnlyList<FleetNews> news);

    Task SetTaskProtection(string service, long nowMs, UpdateTaskProtectionAction action);

    Task AddTaskDefinition(IReadOnlyList<string> services, TaskDefinitionSpec taskDefinition);

    /// <summary>Takes up to <paramref name="requested"/> tokens from one of the account's buckets; returns how many it got.</summary>
    Task<int> TryAcquire(string bucket, long nowMs, int requested, BucketLimit limit);

    /// <summary>Whole tokens in one of the account's buckets now, without taking any.</summary>
    Task<int> Available(string bucket, long nowMs, BucketLimit limit);

    /// <summary>Queues <paramref name="count"/> callers for a token each; returns when each token is theirs.</summary>
    Task<IReadOnlyList<long>> Reserve(string bucket, long nowMs, int count, BucketLimit limit);

    Task InitPlacement(ClusterSetup setup);

    /// <summary>Runs placement on the cluster's capacity view.</summary>
    Task<PlacementPlan> Place(long nowMs, PlacementRequest request);
}

/// <summary>What one tick of one cluster produced: its events, and when it next needs a tick (<see cref="long.MaxValue"/> = never).</summary>
public sealed record ClusterTickResult(long NextDueMs, IReadOnlyList<SimEvent> Events);
