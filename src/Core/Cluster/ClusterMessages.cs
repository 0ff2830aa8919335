using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Cluster;

/// <summary>What every grain of a run shares: identity, seed, tick, the initial image, the instance catalog and the scenario's overrides.</summary>
public sealed record RunSettings(
    string RunId,
    long Seed,
    long TickMs,
    string InitialAmi,
    IReadOnlyList<InstanceType> Catalog,
    DateTimeOffset? CalendarStart = null,
    string? ExplainTask = null,
    LaunchPipeline? Pipeline = null,
    Runtime.RuntimeSettings? Runtime = null);

/// <summary>One cluster of one account, with the run's settings and the account's bucket limits.</summary>
public sealed record ClusterSetup(
    RunSettings Run,
    string Account,
    ClusterSpec Cluster,
    IReadOnlyDictionary<string, BucketLimit> Limits);

/// <summary>One service of a cluster, with the task definitions it may name and the restart backoff of the run.</summary>
public sealed record ServiceSetup(
    string Account,
    string Cluster,
    ServiceSpec Service,
    bool HasHealthCheck,
    IReadOnlyList<TaskDefinitionSpec>? TaskDefinitions = null,
    Runtime.BackoffPolicy? Backoff = null);

/// <summary>
/// What a service decided in one reconciliation: tasks to start and stop, its events, its current revision, the
/// shortfall left for the next cycle, when it must look again by itself, its protected hosts, its tasks per zone
/// that are on their way out, and whether a fleet change must reach it (<paramref name="WatchesFleet"/>: its last
/// reconciliation started or stopped tasks, or its rebalancing waits for the fleet to change).
/// </summary>
public sealed record ServiceTick(
    IReadOnlyList<string> Start,
    IReadOnlyList<ServiceTaskRef> Stop,
    IReadOnlyList<SimEvent> Events,
    string TaskDefinition,
    int Backlog = 0,
    long WakeAtMs = long.MaxValue,
    IReadOnlyList<string>? ProtectedInstances = null,
    SortedDictionary<string, int>? Doomed = null,
    bool WatchesFleet = false);

/// <summary>An instance (or a Fargate zone pool) to bring up: where, what type, which image, and its lifecycle policy.</summary>
public sealed record InstanceLaunch(
    long NowMs,
    string Id,
    string Account,
    string Cluster,
    string Zone,
    string CapacityProvider,
    InstanceType Type,
    string Ami,
    bool PreRegistered,
    bool Fargate,
    HostLifecyclePolicy? Lifecycle = null,
    LaunchPipeline? Pipeline = null,
    Runtime.RuntimeSettings? Runtime = null);

/// <summary>What a host reports after each command: its events, task changes, when it is next due, and its capacity for the placement view.</summary>
public sealed record HostReport(
    string InstanceId,
    IReadOnlyList<SimEvent> Events,
    IReadOnlyList<TaskUpdate> Updates,
    long NextDueMs,
    InstanceSnapshot Snapshot,
    IReadOnlyList<string> Refused,
    string Status = InstanceStates.Active,
    long LaunchedAtMs = 0,
    string? WantsDrain = null,
    string? DrainReason = null);

/// <summary>One placement round: the tasks to place, the capacity changes since the last round, spread counts and scaling allowance.</summary>
public sealed record PlacementRequest(
    IReadOnlyList<PendingTask> Pending,
    IReadOnlyList<InstanceSnapshot> InstanceUpdates,
    IReadOnlyDictionary<string, int[]> GroupZoneCounts,
    IReadOnlyList<string> UnavailableZones,
    long NextInstanceNumber,
    IReadOnlyDictionary<string, int>? InstanceAllowance = null);
