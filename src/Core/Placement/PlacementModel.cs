using Scheduler.Core.Catalog;

namespace Scheduler.Core.Placement;

/// <summary>Reservable resources: cpu units (1024 per vCPU), memory MiB, whole GPUs.</summary>
public readonly record struct Resources(int Cpu, long MemoryMiB, int Gpus)
{
    public static Resources operator +(Resources a, Resources b) => new(a.Cpu + b.Cpu, a.MemoryMiB + b.MemoryMiB, a.Gpus + b.Gpus);
    public static Resources operator -(Resources a, Resources b) => new(a.Cpu - b.Cpu, a.MemoryMiB - b.MemoryMiB, a.Gpus - b.Gpus);
    public bool Fits(Resources need) => need.Cpu <= Cpu && need.MemoryMiB <= MemoryMiB && need.Gpus <= Gpus;
    public bool IsNonNegative => Cpu >= 0 && MemoryMiB >= 0 && Gpus >= 0;
}

/// <summary>One container instance as the placement phases see it at the start of a tick.</summary>
public sealed record InstanceSnapshot
{
    public required string Id { get; init; }
    public required string Zone { get; init; }
    public required string CapacityProvider { get; init; }
    public required InstanceType Type { get; init; }
    /// <summary>Only ACTIVE instances take tasks; DRAINING and LAUNCHING ones are skipped.</summary>
    public required bool Active { get; init; }
    /// <summary>Still launching (not yet registered): phase 3 packs new-capacity tasks onto it before opening another.</summary>
    public bool Launching { get; init; }
    /// <summary>Gone: the placement view forgets it, and it no longer counts against the provider's maximum.</summary>
    public bool Terminated { get; init; }
    /// <summary>Registered minus reserved by the tasks it holds.</summary>
    public required Resources Free { get; init; }
    public IReadOnlyCollection<int> UsedHostPorts { get; init; } = [];
    public IReadOnlyCollection<string> CachedImages { get; init; } = [];
    /// <summary>Groups (services) that already have a task here, for distinctInstance.</summary>
    public IReadOnlyCollection<string> Groups { get; init; } = [];
    /// <summary>Attributes for memberOf expressions (ecs.instance-type, ecs.availability-zone, ... are implied).</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
}

/// <summary>A task waiting to be placed.</summary>
public sealed record PendingTask
{
    public required string TaskId { get; init; }
    /// <summary>Spread group: the service key, or the task definition for standalone tasks.</summary>
    public required string Group { get; init; }
    public required string CapacityProvider { get; init; }
    public required Resources Need { get; init; }
    public IReadOnlyList<int> HostPorts { get; init; } = [];
    public IReadOnlyList<string> Images { get; init; } = [];
    public bool DistinctInstance { get; init; }
    /// <summary>memberOf expression, e.g. <c>attribute:ecs.instance-type =~ m5.*</c>; null = none.</summary>
    public string? MemberOf { get; init; }
}

/// <summary>What a capacity provider may launch in phase 2/3.</summary>
public sealed record CapacityProviderPlacement
{
    public required string Name { get; init; }
    /// <summary>Instance types this provider may launch, from its requirements or its fixed list; empty = cannot launch.</summary>
    public required IReadOnlyList<InstanceType> AllowedTypes { get; init; }
    /// <summary>How many more instances it may launch now (max minus running and launching).</summary>
    public required int RemainingInstances { get; init; }
}

public sealed record PlacementOptions
{
    public required IReadOnlyList<string> Zones { get; init; }
    public required IReadOnlyDictionary<string, CapacityProviderPlacement> CapacityProviders { get; init; }
    /// <summary>Current task count per zone for each group (index = position in <see cref="Zones"/>), so spread accounts for what already runs.</summary>
    public IReadOnlyDictionary<string, int[]> GroupZoneCounts { get; init; } = new Dictionary<string, int[]>();
    /// <summary>Zones that are failed now: nothing is placed or launched there.</summary>
    public IReadOnlyCollection<string> UnavailableZones { get; init; } = [];
    /// <summary>Prefix for ids of new instances in the plan; the caller maps them to real ids.</summary>
    public string NewInstancePrefix { get; init; } = "new-";
}

public enum PlacementPhase { ExistingCapacity = 1, NewCapacity = 2, BinPacking = 3 }

/// <summary>A task assigned to an instance, existing or new (<see cref="NewInstance"/> true: an id from <see cref="PlacementPlan.NewInstances"/>).</summary>
public sealed record TaskAssignment(string TaskId, PlacementPhase Phase, string InstanceId, bool NewInstance, string Why);

public sealed record NewInstanceRequest(string Id, string CapacityProvider, InstanceType Type, string Zone);

public sealed record UnplacedTask(string TaskId, string Reason, bool Permanent);

/// <summary>The result of the three phases: who goes where, what to launch, what could not be placed and why.</summary>
public sealed record PlacementPlan(
    IReadOnlyList<TaskAssignment> Assignments,
    IReadOnlyList<NewInstanceRequest> NewInstances,
    IReadOnlyList<UnplacedTask> Unplaced)
{
    /// <summary>A cluster with several placement schedulers: each one's part of this plan (null with one scheduler).</summary>
    public IReadOnlyList<Sharding.ShardOutcome>? Shards { get; init; }
}
