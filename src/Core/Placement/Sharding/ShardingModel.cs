namespace Scheduler.Core.Placement.Sharding;

/// <summary>How a cluster's placement is split among schedulers.</summary>
public enum ShardingMode
{
    /// <summary>One scheduler sees the whole cluster and places every task: the engine as it always ran.</summary>
    Monolithic,
    /// <summary>Each scheduler owns a fixed subset of the instances and of the services, and an even share of new capacity.</summary>
    Partitioned,
    /// <summary>Each scheduler owns a subset of the services, plans on a snapshot of the whole cluster, and commits optimistically.</summary>
    SharedState,
}

/// <summary>When a shared-state claim on an instance fails at commit time.</summary>
public enum ConflictDetection
{
    /// <summary>Only when the task no longer fits on the instance as it is now.</summary>
    Fine,
    /// <summary>As soon as another scheduler changed the instance since the snapshot, whether or not the task still fits.</summary>
    Coarse,
}

/// <summary>A cluster's <c>placement:</c> field: how many schedulers, of what kind, and how long one decision takes.</summary>
public sealed record ShardingSpec
{
    public int Shards { get; init; } = 1;
    public ShardingMode Mode { get; init; } = ShardingMode.Monolithic;
    public ConflictDetection Conflict { get; init; } = ConflictDetection.Fine;
    /// <summary>How long one scheduler takes to decide: its snapshot is that much older than the moment it commits.</summary>
    public long DecisionTimeMs { get; init; }

    public static ShardingSpec Monolithic { get; } = new();

    /// <summary>Runs exactly as a cluster without the field: one scheduler deciding every tick.</summary>
    public bool IsDefault => Mode == ShardingMode.Monolithic && Shards == 1 && DecisionTimeMs == 0;

    public const int MaxShards = 64;
}

/// <summary>
/// A reservation one scheduler committed: a task's needs on an instance, or (<see cref="NewInstance"/>) an instance it
/// opened. Other schedulers whose snapshot predates it do not see it.
/// </summary>
public sealed record ShardClaim(long TimeMs, int Shard, string InstanceId, Resources Need, IReadOnlyList<int> Ports, bool NewInstance = false);

/// <summary>Which scheduler owns an instance it launched (partitioned mode).</summary>
public sealed record InstanceOwner(string InstanceId, int Shard);

/// <summary>What the schedulers remember from one tick to the next.</summary>
public sealed record ShardingState
{
    /// <summary>Claims committed no longer ago than the decision time, oldest first: they may be missing from a snapshot.</summary>
    public IReadOnlyList<ShardClaim> Recent { get; init; } = [];
    /// <summary>Instances opened by a partitioned scheduler, in id order.</summary>
    public IReadOnlyList<InstanceOwner> Owners { get; init; } = [];
    /// <summary>Tasks whose last claim conflicted, in id order: their next attempt counts as a retry.</summary>
    public IReadOnlyList<string> Conflicted { get; init; } = [];

    public static ShardingState Empty { get; } = new();
}

/// <summary>What one scheduler plans on: its snapshot of the instances, its tasks, and its options.</summary>
public sealed record ShardInput(int Shard, IReadOnlyList<InstanceSnapshot> Instances, IReadOnlyList<PendingTask> Pending, PlacementOptions Options);

/// <summary>A claim refused at commit time; the task waits for a later tick.</summary>
public sealed record PlacementConflict(int Shard, string TaskId, string InstanceId, string Reason);

/// <summary>One scheduler's part of a tick.</summary>
/// <param name="Decided">False when it was still busy with an earlier decision (its tasks wait).</param>
/// <param name="Pending">Tasks it owned this tick.</param>
/// <param name="Committed">Its plan less the refused claims (those are in <see cref="Conflicts"/> and the plan's unplaced tasks).</param>
/// <param name="Retries">Its tasks whose previous claim had conflicted.</param>
public sealed record ShardOutcome(int Shard, bool Decided, int Pending, PlacementPlan Committed, IReadOnlyList<PlacementConflict> Conflicts, int Retries);

/// <summary>
/// A sharded tick's result: the merged plan (assignments and new instances in shard order, new instances with their
/// final ids), each scheduler's part, and the state for the next tick.
/// </summary>
public sealed record ShardedPlacementResult(PlacementPlan Plan, IReadOnlyList<ShardOutcome> Shards, ShardingState Next);
