using System.Text.Json.Serialization;

namespace Scheduler.Core.Scenarios;

/// <summary>
/// A parsed, validated scenario. Built only by <see cref="ScenarioLoader"/>,
/// which reports every problem of a file at once; an instance of this type is always valid.
/// Durations are <see cref="TimeSpan"/>; the engine turns them into simulated milliseconds.
/// </summary>
public sealed record Scenario
{
    public required string Name { get; init; }
    public required long Seed { get; init; }
    /// <summary>Simulated calendar start, used by maintenance windows. Default 2026-01-05T00:00:00Z (a Monday).</summary>
    public DateTimeOffset Start { get; init; } = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);
    /// <summary>How long to simulate. Null with <see cref="UntilSettled"/> true: run until nothing is left to do.</summary>
    public TimeSpan? Duration { get; init; }
    public bool UntilSettled { get; init; }
    /// <summary>With <see cref="UntilSettled"/>: the run stops here even if it has not settled (default 400 days).</summary>
    public TimeSpan? MaxDuration { get; init; }
    public TimeSpan Tick { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Path of an instance type catalog file (resolved against the scenario's folder); null = built-in catalog.</summary>
    public string? InstanceCatalog { get; init; }
    /// <summary>The AMI release that instances boot at time 0.</summary>
    public string InitialAmi { get; init; } = "1.20.0";
    /// <summary>The launch pipeline's named delays (defaults calibrated against the published benchmark).</summary>
    public Engine.LaunchPipeline LaunchPipeline { get; init; } = Engine.LaunchPipeline.Default;
    /// <summary>Task runtime parameters: memory sampling, the hosts' OS/agent memory, the service throttle.</summary>
    public Scheduler.Core.Runtime.RuntimeSettings Runtime { get; init; } = Scheduler.Core.Runtime.RuntimeSettings.Default;
    public required IReadOnlyList<AccountSpec> Accounts { get; init; }
    public IReadOnlyList<TimelineEntry> Timeline { get; init; } = [];
}

public sealed record AccountSpec
{
    public required string Id { get; init; }
    /// <summary>Per-account rate-limit overrides by bucket name (fargateOnDemand, fargateSpot, runTask,
    /// serviceDeploymentFargate, serviceDeploymentEc2); see <see cref="RateLimits.BucketNames"/>.</summary>
    public IReadOnlyDictionary<string, BucketLimit> Limits { get; init; } = new Dictionary<string, BucketLimit>();
    public required IReadOnlyList<ClusterSpec> Clusters { get; init; }
    /// <summary>The access keys that sign this account's calls to the live API (<c>serve</c>); null = not reachable through it.</summary>
    public AccountCredentials? Credentials { get; init; }
}

/// <summary>An AWS access key pair: requests signed (Signature Version 4) with it act as the account that owns it.</summary>
public sealed record AccountCredentials(string AccessKeyId, string SecretAccessKey);

public sealed record BucketLimit(double Burst, double PerSecond);

public sealed record ClusterSpec
{
    public required string Name { get; init; }
    public IReadOnlyList<string> Zones { get; init; } = ["a", "b", "c"];
    public required IReadOnlyList<CapacityProviderSpec> CapacityProviders { get; init; }
    public required IReadOnlyList<TaskDefinitionSpec> TaskDefinitions { get; init; }
    public IReadOnlyList<ServiceSpec> Services { get; init; } = [];
    /// <summary>Continual rebalancing: move tasks (start before stop) when a service's zone counts differ by more than one.</summary>
    public bool Rebalancing { get; init; } = true;
    /// <summary>AWS Batch style job queues in front of RunTask.</summary>
    public IReadOnlyList<JobQueueSpec> JobQueues { get; init; } = [];
    /// <summary>How placement is split among schedulers; the default is one scheduler for the whole cluster.</summary>
    public Scheduler.Core.Placement.Sharding.ShardingSpec Placement { get; init; } = Scheduler.Core.Placement.Sharding.ShardingSpec.Monolithic;
}

public enum CapacityType { Fargate, FargateSpot, Ec2, ManagedInstances, External }

public sealed record CapacityProviderSpec
{
    public required string Name { get; init; }
    public required CapacityType Type { get; init; }
    /// <summary>Attribute-based instance selection (Managed Instances). Null = C, M and R families.</summary>
    public InstanceRequirements? InstanceRequirements { get; init; }
    public MaintenanceWindow? MaintenanceWindow { get; init; }
    /// <summary>EC2: the instance types its auto-scaling group launches.</summary>
    public IReadOnlyList<string> InstanceTypes { get; init; } = [];
    /// <summary>EC2: instances registered at time 0.</summary>
    public int InitialInstances { get; init; }
    /// <summary>Upper bound on instances this provider may run at once.</summary>
    public int MaxInstances { get; init; } = 10_000;
    /// <summary>EXTERNAL: on-premises hosts registered at time 0.</summary>
    public IReadOnlyList<ExternalInstanceSpec> Instances { get; init; } = [];
    /// <summary>MANAGED_INSTANCES: the patch cycle's ages and how many hosts it replaces at once.</summary>
    public PatchCycleSpec PatchCycle { get; init; } = new();
    /// <summary>EC2 and MANAGED_INSTANCES: expected scheduled EC2 maintenance events per instance per 30 days.</summary>
    public double MaintenanceEventRate { get; init; }
    /// <summary>EC2 and MANAGED_INSTANCES on Spot: expected interruptions per instance per day (0 = On-Demand).</summary>
    public double SpotInterruptionRate { get; init; }
    /// <summary>MANAGED_INSTANCES: consolidation of underused hosts (ECS infrastructure optimization); on by default.</summary>
    public InfrastructureOptimizationSpec InfrastructureOptimization { get; init; } = new();
}

/// <summary>
/// Consolidation (ECS Managed Instances infrastructure optimization): a host whose reserved share
/// (the larger of cpu and memory) stays below <see cref="UtilizationThreshold"/> percent for <see cref="ScaleInAfter"/>
/// is drained (reason <c>consolidation</c>) when its tasks fit on the provider's other hosts, and terminates once empty.
/// </summary>
public sealed record InfrastructureOptimizationSpec
{
    public bool Enabled { get; init; } = true;
    public TimeSpan ScaleInAfter { get; init; } = TimeSpan.FromHours(1);
    public double UtilizationThreshold { get; init; } = 20;
    /// <summary>Hosts of one provider draining for consolidation at once.</summary>
    public int MaxConcurrent { get; init; } = 1;
}

/// <summary>
/// The patch cycle of a Managed Instances provider: replace inside the maintenance window
/// from <see cref="ReplaceInWindowAfter"/>, anywhere from <see cref="ReplaceAnyTimeAfter"/>, never live past
/// <see cref="MaxLifetime"/>. <see cref="MaxConcurrentReplacements"/> bounds how many hosts drain for the
/// in-window replacement at once (0 = no bound).
/// </summary>
public sealed record PatchCycleSpec
{
    public TimeSpan ReplaceInWindowAfter { get; init; } = TimeSpan.FromDays(14);
    public TimeSpan ReplaceAnyTimeAfter { get; init; } = TimeSpan.FromDays(21);
    public TimeSpan MaxLifetime { get; init; } = TimeSpan.FromDays(30);
    public int MaxConcurrentReplacements { get; init; }
}

/// <summary>EXTERNAL hosts of one shape; <see cref="GpuModel"/> names the model of their GPUs (null = none or unknown).</summary>
public sealed record ExternalInstanceSpec(double Vcpu, long MemoryMiB, int Count, int Gpus = 0, string? GpuModel = null)
{
    /// <summary>The host type an on-premises host of this shape registers as: no price (we do not bill for it), no launch time.</summary>
    public Catalog.InstanceType ToInstanceType() =>
        new($"external-{Vcpu}vcpu-{MemoryMiB}mib", "external", (int)Math.Ceiling(Vcpu), MemoryMiB, Gpus, GpuModel, false, 0m, TimeSpan.Zero);
}

public sealed record Range<T>(T? Min, T? Max) where T : struct;

public enum BareMetal { Excluded, Included, Required }

public sealed record InstanceRequirements
{
    public Range<double>? Vcpu { get; init; }
    public Range<long>? MemoryMiB { get; init; }
    public Range<double>? MemoryMiBPerVcpu { get; init; }
    /// <summary>Allowed families (e.g. c, m, r, g); empty = any.</summary>
    public IReadOnlyList<string> Families { get; init; } = [];
    public IReadOnlyList<string> ExcludedFamilies { get; init; } = [];
    /// <summary>Allowed type names (e.g. m5.2xlarge); empty = any.</summary>
    public IReadOnlyList<string> AllowedTypes { get; init; } = [];
    public IReadOnlyList<string> ExcludedTypes { get; init; } = [];
    public Range<int>? Gpus { get; init; }
    public IReadOnlyList<string> GpuModels { get; init; } = [];
    public BareMetal BareMetal { get; init; } = BareMetal.Excluded;
}

/// <summary>A weekly maintenance window: <see cref="Day"/> at <see cref="StartOfDay"/> for <see cref="Length"/>.</summary>
public sealed record MaintenanceWindow(DayOfWeek Day, TimeSpan StartOfDay, TimeSpan Length);

public enum NetworkMode { Awsvpc, Bridge, Host }

public sealed record TaskDefinitionSpec
{
    public required string Family { get; init; }
    public int Revision { get; init; } = 1;
    /// <summary>Task-level cpu units (1024 = 1 vCPU); required on Fargate.</summary>
    public int? Cpu { get; init; }
    /// <summary>Task-level memory MiB; required on Fargate.</summary>
    public int? Memory { get; init; }
    public NetworkMode NetworkMode { get; init; } = NetworkMode.Awsvpc;
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long the work runs before its essential container exits; null = until stopped.</summary>
    public DurationDistribution? RunTime { get; init; }
    public required IReadOnlyList<ContainerSpec> Containers { get; init; }
    public IReadOnlyList<PlacementConstraintSpec> PlacementConstraints { get; init; } = [];
    /// <summary>The task's priority for the host's OOM killer (oom_score_adj, -1000 = never kill .. 1000 = kill first).</summary>
    public int OomScoreAdj { get; init; }

    /// <summary>Resources placement reserves: task-level size when given, else the containers' sum
    /// (memoryReservation, falling back to memory).</summary>
    public int ReservedCpu => Cpu ?? Containers.Sum(c => c.Cpu);
    public int ReservedMemoryMiB => Memory ?? Containers.Sum(c => c.MemoryReservation ?? c.Memory ?? 0);
    public int ReservedGpus => Containers.Sum(c => c.Gpus);
}

/// <summary>A duration that is fixed (<see cref="Stddev"/> zero) or normally distributed, never below <see cref="Min"/>.</summary>
public sealed record DurationDistribution(TimeSpan Mean, TimeSpan Stddev, TimeSpan Min);

public sealed record ContainerSpec
{
    public required string Name { get; init; }
    public required string Image { get; init; }
    public int ImageSizeMiB { get; init; } = 100;
    /// <summary>cpu units: relative shares under contention, not a cap.</summary>
    public int Cpu { get; init; }
    /// <summary>Soft limit: what placement reserves.</summary>
    public int? MemoryReservation { get; init; }
    /// <summary>Hard limit: exceeding it kills the container.</summary>
    public int? Memory { get; init; }
    public int Gpus { get; init; }
    public bool Essential { get; init; } = true;
    public MemoryUsageSpec? Usage { get; init; }
    public FailureSpec? Failures { get; init; }
    public HealthCheckSpec? HealthCheck { get; init; }
    public IReadOnlyList<PortMapping> PortMappings { get; init; } = [];
    /// <summary>How long the container's process takes to exit after SIGTERM; null = the launch pipeline's <c>gracefulExit</c>.
    /// The task's stopTimeout cuts it short (SIGKILL).</summary>
    public TimeSpan? ExitTime { get; init; }
}

/// <summary>A container's usage model: memory level (constant or normal), leak, spikes, a managed
/// heap, and CPU (steady demand and a start-up burst).</summary>
public sealed record MemoryUsageSpec(double MeanMiB, double StddevMiB)
{
    public double LeakMiBPerHour { get; init; }
    public SpikeSpec? Spikes { get; init; }
    public Runtime.HeapSizing? Heap { get; init; }
    public CpuUsageSpec? Cpu { get; init; }
}

/// <summary>One spike of <see cref="ExtraMiB"/> lasting <see cref="Length"/> at a random moment of every <see cref="Every"/>.</summary>
public sealed record SpikeSpec(TimeSpan Every, TimeSpan Length, double ExtraMiB);

/// <summary>cpu units a container wants while running, and its start-up burst (<see cref="StartupUnits"/> for <see cref="Startup"/> uncontended).</summary>
public sealed record CpuUsageSpec(double Units, double StartupUnits, TimeSpan Startup);

/// <summary>
/// How a container fails: <see cref="StartFailure"/> is the probability that it fails to start (the task stops
/// from PENDING), <see cref="CrashesPerDay"/> the rate of crashes once RUNNING (exponential time to crash),
/// <see cref="HealthCheckFailure"/> the probability that its health check never passes (the task goes UNHEALTHY
/// and is stopped).
/// </summary>
public sealed record FailureSpec(double StartFailure, double CrashesPerDay, double HealthCheckFailure);

public sealed record HealthCheckSpec(TimeSpan StartPeriod, TimeSpan Interval, int HealthyThreshold);

public sealed record PortMapping(int ContainerPort, int? HostPort);

public enum PlacementConstraintType { DistinctInstance, MemberOf }

public sealed record PlacementConstraintSpec(PlacementConstraintType Type, string? Expression);

public sealed record ServiceSpec
{
    public required string Name { get; init; }
    public required string TaskDefinition { get; init; }
    public required int DesiredCount { get; init; }
    /// <summary>Resolved strategy: a single capacityProvider becomes one entry of weight 1.</summary>
    public required IReadOnlyList<CapacityProviderStrategyItem> CapacityProviderStrategy { get; init; }
    public bool LoadBalancer { get; init; }
    public bool AssignPublicIp { get; init; } = true;
    public DeploymentConfiguration Deployment { get; init; } = new();
    /// <summary>Every task the service starts is protected from scale-in (as if each called UpdateTaskProtection with no expiry).</summary>
    public bool ProtectedFromScaleIn { get; init; }
}

public sealed record CapacityProviderStrategyItem(string CapacityProvider, int Weight, int Base);

public sealed record DeploymentConfiguration
{
    public int MinimumHealthyPercent { get; init; } = 100;
    public int MaximumPercent { get; init; } = 200;
    public bool CircuitBreakerEnabled { get; init; }
    public bool CircuitBreakerRollback { get; init; }
}

/// <summary>One entry of the scenario timeline, delivered at simulated time <see cref="At"/>.</summary>
public sealed record TimelineEntry(TimeSpan At, TimelineAction Action, int Line);

[JsonPolymorphic(TypeDiscriminatorPropertyName = "$action")]
[JsonDerivedType(typeof(RunTaskAction), "runTask")]
[JsonDerivedType(typeof(UpdateServiceAction), "updateService")]
[JsonDerivedType(typeof(FailZoneAction), "failZone")]
[JsonDerivedType(typeof(DrainInstanceAction), "drainInstance")]
[JsonDerivedType(typeof(ReleaseAmiAction), "releaseAmi")]
[JsonDerivedType(typeof(UpdateTaskProtectionAction), "updateTaskProtection")]
[JsonDerivedType(typeof(CreateClusterAction), "createCluster")]
[JsonDerivedType(typeof(RegisterTaskDefinitionAction), "registerTaskDefinition")]
[JsonDerivedType(typeof(CreateServiceAction), "createService")]
[JsonDerivedType(typeof(StopTaskAction), "stopTask")]
[JsonDerivedType(typeof(SubmitJobAction), "submitJob")]
[JsonDerivedType(typeof(CreateJobQueueAction), "createJobQueue")]
[JsonDerivedType(typeof(CancelJobAction), "cancelJob")]
[JsonDerivedType(typeof(Batch.StartJobTasksAction), "startJobTasks")]
public abstract record TimelineAction;

/// <summary>
/// RunTask. <see cref="StartedBy"/> is ECS's optional tag for the caller (e.g. a job or trace pod id); null = "runTask".
/// <see cref="TaskIds"/>, when given, are the ids of the tasks an API front door already admitted: the call has passed
/// the account's RunTask bucket and its launch bucket granted exactly these tasks (<see cref="Count"/> is what was asked
/// for). The account draws those tokens first in the tick, before any cluster, so the grant is the same on replay.
/// </summary>
public sealed record RunTaskAction(string Account, string Cluster, string TaskDefinition, int Count,
    string CapacityProvider, DurationDistribution? RunTime, string? StartedBy = null, IReadOnlyList<string>? TaskIds = null) : TimelineAction;

/// <summary>CreateCluster: a new cluster of the account (its capacity providers resolved; task definitions are the account's).</summary>
public sealed record CreateClusterAction(string Account, ClusterSpec Cluster) : TimelineAction;

/// <summary>RegisterTaskDefinition: a new revision, known from then on to every cluster of the account.</summary>
public sealed record RegisterTaskDefinitionAction(string Account, TaskDefinitionSpec TaskDefinition) : TimelineAction;

/// <summary>CreateService in an existing cluster; it reconciles in the same tick.</summary>
public sealed record CreateServiceAction(string Account, string Cluster, ServiceSpec Service) : TimelineAction;

/// <summary>
/// StopTask. <see cref="Host"/> is where the task runs (an instance id, or a Fargate pool id) as the caller saw it;
/// null = the cluster looks for it (pending tasks, then every host).
/// </summary>
public sealed record StopTaskAction(string Account, string Cluster, string Task, string Reason, string? Host = null) : TimelineAction
{
    public const string DefaultReason = "Task stopped by user";
}

public sealed record UpdateServiceAction(string Account, string Cluster, string Service,
    int? DesiredCount, string? TaskDefinition, bool ForceNewDeployment) : TimelineAction;

public sealed record FailZoneAction(string Account, string Cluster, string Zone, TimeSpan For) : TimelineAction;

/// <summary>
/// A host taken out of service: a manual drain (<c>drainInstance</c>), or a fault the timeline injects
/// (<c>maintenanceEvent</c>, <c>interruptSpot</c>, <c>disconnectAgent</c>); <see cref="Reason"/> is the instance
/// event's reason. <see cref="Instance"/> is an instance id or "any" (the oldest ACTIVE one).
/// </summary>
public sealed record DrainInstanceAction(string Account, string Cluster, string Instance, string Reason = "manual") : TimelineAction;

public sealed record ReleaseAmiAction(string Version) : TimelineAction;

/// <summary>
/// ECS UpdateTaskProtection for a service's tasks: <see cref="Tasks"/> are task ids, or null for every task the
/// service runs at that moment. Protected tasks are not stopped by scale-in, rolling updates or drains until
/// <see cref="ExpiresIn"/> has passed (default 2h, at most 48h, as in ECS) or protection is removed.
/// </summary>
public sealed record UpdateTaskProtectionAction(string Account, string Cluster, string Service, IReadOnlyList<string>? Tasks,
    bool ProtectionEnabled, TimeSpan ExpiresIn) : TimelineAction
{
    public static readonly TimeSpan DefaultExpiresIn = TimeSpan.FromHours(2);
    public static readonly TimeSpan MaxExpiresIn = TimeSpan.FromHours(48);
}
