using Orleans.Concurrency;
using Scheduler.Core.Catalog;
using Scheduler.Core.Cluster;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Abstractions;

/// <summary>Owns a run's simulated clock and timeline; the client drives it with <see cref="RunFor"/>.</summary>
public interface ISimulationGrain : IGrainWithStringKey
{
    Task Start(SimulationSetup setup);

    /// <summary>Advances rounds of simulated time for about <paramref name="wallBudgetMs"/> of wall time and returns the events since the last call.</summary>
    Task<RunProgress> RunFor(int wallBudgetMs);

    /// <summary>
    /// Live mode: takes <paramref name="calls"/> (each at a tick after every round begun so far, in time order) as
    /// more timeline, then advances like <see cref="RunFor"/> but begins no round at or after <paramref name="horizonMs"/>.
    /// </summary>
    Task<RunProgress> RunUntil(int wallBudgetMs, long horizonMs, [Immutable] IReadOnlyList<TimelineEntry> calls);

    /// <summary>
    /// After a failed <see cref="RunFor"/> (a silo died): rolls the whole run back to its last committed checkpoint
    /// and returns where it stands; the next <see cref="RunFor"/> continues from there with the events after it.
    /// </summary>
    Task<ResumePoint> Resume();
}

/// <summary>A tenant: the shard of the simulation. It ticks its clusters in name order, so that account-wide buckets are drawn on in a fixed order.</summary>
public interface IAccountGrain : IGrainWithStringKey
{
    Task Init(AccountSetup setup);

    Task<ShardTick> Tick(long nowMs, [Immutable] IReadOnlyList<TimelineAction> inputs);

    Task Checkpoint(long nowMs);
}

/// <summary>Coordinates one cluster's scheduling tick: inputs, host lifecycles, services, placement, dispatch.</summary>
public interface IClusterGrain : IGrainWithStringKey
{
    Task Init([Immutable] ClusterSetup setup);

    Task<ShardTick> Tick(long nowMs, [Immutable] IReadOnlyList<TimelineAction> inputs);

    Task Checkpoint(long nowMs);
}

public interface IServiceGrain : IGrainWithStringKey
{
    Task Init([Immutable] ServiceSetup setup);

    /// <summary>Applies task updates and an optional API change, then reconciles desired against actual.</summary>
    /// <paramref name="maxStarts"/> is the launch allowance of this workflow cycle (deployment rate and launch buckets).
    Task<Immutable<ServiceTick>> Reconcile(long nowMs, [Immutable] IReadOnlyList<TaskUpdate> updates, [Immutable] UpdateServiceAction? update, [Immutable] IReadOnlyList<string> unplaceable, int maxStarts);

    /// <summary>The cluster's hosts that are DRAINING and zones that are up changed; the next reconciliation replaces tasks on draining hosts and rebalances.</summary>
    Task UpdateFleet([Immutable] IReadOnlyList<string> drainingInstances, [Immutable] IReadOnlyList<string> availableZones, bool rebalancing);

    /// <summary>UpdateTaskProtection (scale-in protection) for some or all of the service's tasks; the next reconciliation acts on it.</summary>
    Task SetTaskProtection(long nowMs, UpdateTaskProtectionAction action);

    /// <summary>A task definition registered after the service was created (an UpdateService may name it).</summary>
    Task AddTaskDefinition(TaskDefinitionSpec taskDefinition);

    Task Checkpoint(long nowMs);
}

public interface IContainerInstanceGrain : IGrainWithStringKey
{
    Task<Immutable<HostReport>> Launch([Immutable] InstanceLaunch launch, [Immutable] IReadOnlyList<TaskLaunch> tasks);

    Task<Immutable<HostReport>> Accept(long nowMs, [Immutable] IReadOnlyList<TaskLaunch> tasks);

    Task<Immutable<HostReport>> Advance(long nowMs);

    Task<Immutable<HostReport>> Stop(long nowMs, [Immutable] IReadOnlyList<string> taskIds, string reason);

    /// <summary>Takes the host out of service for <paramref name="reason"/> (an instance event reason): a drain, a Spot warning, or a lost host.</summary>
    Task<Immutable<HostReport>> Drain(long nowMs, string reason);

    /// <summary>The cluster grants the in-window patch replacement the host asked for (bounded concurrency per capacity provider).</summary>
    Task<Immutable<HostReport>> GrantPatchDrain(long nowMs);

    Task Checkpoint(long nowMs);
}

/// <summary>Holds the cluster's capacity view and runs the three placement phases on it.</summary>
public interface IPlacementGrain : IGrainWithStringKey
{
    Task Init([Immutable] ClusterSetup setup);

    Task<PlacementResult> Place(long nowMs, [Immutable] PlacementRequest request);

    /// <summary>How the run's explained task (<see cref="RunSettings.ExplainTask"/>) was placed, each time it was pending; empty if never here.</summary>
    Task<IReadOnlyList<string>> Explanation();

    Task Checkpoint(long nowMs);
}

/// <summary>
/// A job queue (AWS Batch style), driven by its account: submissions and settled dependencies, then a drain into
/// RunTask calls within the allowance the account hands it; and what its jobs' tasks did.
/// </summary>
public interface IJobQueueGrain : IGrainWithStringKey
{
    Task Init(string account, ClusterSpec cluster, JobQueueSpec queue);

    Task<Core.Batch.JobQueueStep> Drain(long nowMs, [Immutable] IReadOnlyList<Core.Batch.JobSubmission> submissions,
        [Immutable] IReadOnlyList<Core.Batch.JobResolution> resolutions, [Immutable] Core.Batch.JobAllowance allowance,
        [Immutable] IReadOnlyList<Core.Batch.JobCancellation> cancellations);

    Task<Core.Batch.JobQueueStep> Observe(long nowMs, [Immutable] IReadOnlyList<Core.Batch.JobTaskOutcome> outcomes);

    Task Checkpoint(long nowMs);
}

/// <summary>A token bucket.</summary>
public interface IRateLimitBucketGrain : IGrainWithStringKey
{
    Task<int> TryAcquire(long nowMs, int requested, BucketLimit limit);

    /// <summary>Whole tokens available now, without taking any.</summary>
    Task<int> Available(long nowMs, BucketLimit limit);

    /// <summary>Queues <paramref name="count"/> callers for a token each (capacity that runs short, e.g. Fargate Spot); returns when each token is theirs.</summary>
    Task<IReadOnlyList<long>> Reserve(long nowMs, int count, BucketLimit limit);

    Task Checkpoint(long nowMs);
}

[GenerateSerializer, Immutable, Alias("sim-setup")]
public sealed record SimulationSetup(
    [property: Id(0)] string RunId,
    [property: Id(1)] Scenario Scenario,
    [property: Id(2)] IReadOnlyList<InstanceType> Catalog,
    [property: Id(3)] string? ExplainTask = null,
    [property: Id(4)] bool Live = false,
    [property: Id(5)] int? CheckpointIntervalMs = null);

/// <param name="DurableEvents">Events of the run up to its last committed checkpoint: a run resumed after a failure starts again after them.</param>
/// <param name="Checkpoints">Checkpoints committed so far, and their wall time in all.</param>
[GenerateSerializer, Immutable, Alias("run-progress")]
public sealed record RunProgress(
    [property: Id(0)] long SimulatedMs,
    [property: Id(1)] bool Done,
    [property: Id(2)] long Ticks,
    [property: Id(3)] IReadOnlyList<SimEvent> Events,
    [property: Id(4)] bool AtHorizon = false,
    [property: Id(5)] long DurableEvents = 0,
    [property: Id(6)] long Checkpoints = 0,
    [property: Id(7)] double CheckpointSeconds = 0);

/// <summary>Where a resumed run stands: its last committed checkpoint's time, ticks and event count, and its new epoch.</summary>
[GenerateSerializer, Immutable, Alias("resume-point")]
public sealed record ResumePoint(
    [property: Id(0)] long SimulatedMs,
    [property: Id(1)] long Ticks,
    [property: Id(2)] long Events,
    [property: Id(3)] long Epoch);

[GenerateSerializer, Immutable, Alias("shard-tick")]
public sealed record ShardTick(
    [property: Id(0)] long NextDueMs,
    [property: Id(1)] IReadOnlyList<SimEvent> Events);

[GenerateSerializer, Immutable, Alias("account-setup")]
public sealed record AccountSetup(
    [property: Id(0)] RunSettings Run,
    [property: Id(1)] AccountSpec Account);

[GenerateSerializer, Immutable, Alias("placement-result")]
public sealed record PlacementResult(
    [property: Id(0)] PlacementPlan Plan,
    [property: Id(1)] IReadOnlyList<string> NewInstanceIds);
