namespace Scheduler.Core.Engine;

/// <summary>The event kinds of events.jsonl.</summary>
public static class EventKinds
{
    public const string Task = "task";
    public const string Instance = "instance";
    public const string Placement = "placement";
    public const string Service = "service";
    public const string Throttle = "throttle";
    public const string Oom = "oom";
    /// <summary>An API call refused for a bad parameter (e.g. RunTask with count above 10): <c>api</c>, <c>error</c>, <c>requested</c>, <c>reason</c>.</summary>
    public const string ApiError = "apiError";
    /// <summary>A batch job changed state: <c>job</c>, <c>queue</c>, <c>state</c>, <c>arrayIndex</c>, <c>attempt</c>, <c>task</c>, <c>reason</c>.</summary>
    public const string Job = "job";
    /// <summary>A sharded cluster's placement claim refused at commit: <c>shard</c>, <c>task</c>, <c>instance</c>, <c>reason</c>.</summary>
    public const string Conflict = "conflict";
}

/// <summary>The APIs and error codes of <see cref="EventKinds.ApiError"/> events, as ECS names them.</summary>
public static class ApiErrors
{
    public const string RunTask = "RunTask";
    public const string InvalidParameter = "InvalidParameterException";
    public const string SubmitJob = "SubmitJob";
    /// <summary>AWS Batch's error for a request it refuses (e.g. a dependency on a job id it does not know).</summary>
    public const string ClientException = "ClientException";
}

/// <summary>The <c>scope</c> of an <c>oom</c> event: a container over its own limit, or the host's OOM killer.</summary>
public static class OomScopes
{
    public const string Container = "container";
    public const string Host = "host";
}

/// <summary>
/// One state change, as written to events.jsonl. A flat record: each kind uses its own fields
/// (see <see cref="EventJson"/>), the rest stay null. <see cref="TimeMs"/> is simulated time.
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
    /// <summary>Throttle events of a RunTask call: the call's tasks that were refused for good (all of them when the call
    /// itself was throttled, those over the Fargate bucket otherwise). Zero for a service's launches, which wait and retry.</summary>
    public int Tasks { get; init; }
    public string? Container { get; init; }
    public string? Scope { get; init; }
    public string? Api { get; init; }
    public string? Error { get; init; }
    /// <summary>Task events in PROVISIONING (creation): the cpu units and MiB the task reserves.</summary>
    public int Cpu { get; init; }
    public long MemoryMiB { get; init; }
    /// <summary>Job events: the job id, its queue, its index in its array job (null for a single job or an array parent), and its attempt.</summary>
    public string? Job { get; init; }
    public string? Queue { get; init; }
    public int? ArrayIndex { get; init; }
    /// <summary>Job events of an array job's parent: its number of children (null for other jobs).</summary>
    public int? ArraySize { get; init; }
    public int Attempt { get; init; }
    /// <summary>Placement and conflict events of a cluster with several placement schedulers: the scheduler (null with one).</summary>
    public int? Shard { get; init; }
    /// <summary>Sharded placement events (phase 1): the scheduler's tasks whose previous claim had conflicted.</summary>
    public int Retries { get; init; }
}
