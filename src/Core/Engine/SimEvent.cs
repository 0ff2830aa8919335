namespace Scheduler.Core.Engine;

/// <summary>The event kinds of events.jsonl (SPEC section 10).</summary>
public static class EventKinds
{
    public const string Task = "task";
    public const string Instance = "instance";
    public const string Placement = "placement";
    public const string Service = "service";
    public const string Throttle = "throttle";
    public const string Oom = "oom";
}

/// <summary>
/// One state change, as written to events.jsonl. A flat record: each kind uses the fields SPEC section 10
/// names for it (see <see cref="EventJson"/>), the rest stay null. <see cref="TimeMs"/> is simulated time.
/// </summary>
public sealed record SimEvent
{
    public required long TimeMs { get; init; }
    public required string Kind { get; init; }
    public required string Account { get; init; }
    public required string Cluster { get; init; }
    public string? Task { get; init; }
    public string? State { get; init; }
    public string? Health { get; init; }
    public string? Service { get; init; }
    public string? StartedBy { get; init; }
    public string? CapacityProvider { get; init; }
    public string? Instance { get; init; }
    public string? Zone { get; init; }
    public string? Reason { get; init; }
    public string? InstanceType { get; init; }
    public string? Ami { get; init; }
    public long Tick { get; init; }
    public int Phase { get; init; }
    public int Placed { get; init; }
    public int Unplaced { get; init; }
    public int InstancesRequested { get; init; }
    public int Desired { get; init; }
    public int Running { get; init; }
    public int Healthy { get; init; }
    public string? Deployment { get; init; }
    public double BackoffSeconds { get; init; }
    public string? Bucket { get; init; }
    public int Requested { get; init; }
    public int Granted { get; init; }
    public string? Container { get; init; }
    public string? Scope { get; init; }
    /// <summary>Task events in PROVISIONING (creation): the cpu units and MiB the task reserves.</summary>
    public int Cpu { get; init; }
    public long MemoryMiB { get; init; }
}
