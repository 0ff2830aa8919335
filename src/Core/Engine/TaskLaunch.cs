using Scheduler.Core.Placement;

namespace Scheduler.Core.Engine;

public sealed record ImageRef(string Name, int SizeMiB);

/// <summary>Everything a host needs to run one task, fixed when the task is created.</summary>
public sealed record TaskLaunch
{
    public required string TaskId { get; init; }
    /// <summary>Owning service name; null for a standalone (RunTask) task.</summary>
    public string? Service { get; init; }
    /// <summary>"ecs-svc/&lt;service&gt;" for service tasks, "runTask" for standalone ones.</summary>
    public required string StartedBy { get; init; }
    public required string CapacityProvider { get; init; }
    public required string TaskDefinition { get; init; }
    public required string Group { get; init; }
    public required Resources Need { get; init; }
    public IReadOnlyList<int> HostPorts { get; init; } = [];
    public IReadOnlyList<ImageRef> Images { get; init; } = [];
    public bool Awsvpc { get; init; }
    public bool LoadBalancer { get; init; }
    /// <summary>awsvpc with assignPublicIp (Fargate): a public IPv4 address is allocated while PROVISIONING.</summary>
    public bool PublicIp { get; init; }
    /// <summary>The task's standard normal draw that spreads its capacity-acquisition delay (keyed by the task id).</summary>
    public double LaunchJitter { get; init; }
    /// <summary>When capacity is the task's (Fargate Spot availability); it waits in PROVISIONING until then.</summary>
    public long CapacityReadyAtMs { get; init; }
    /// <summary>Time from RUNNING to HEALTHY; null = no health check (health stays UNKNOWN).</summary>
    public long? HealthyAfterMs { get; init; }
    /// <summary>Time from RUNNING until the essential container exits; null = runs until stopped.</summary>
    public long? RunTimeMs { get; init; }
    public long StopTimeoutMs { get; init; } = 30_000;
    /// <summary>Per container, how long its process takes to exit after SIGTERM (null = the pipeline's gracefulExit); empty = every container takes that.</summary>
    public IReadOnlyList<long?> ContainerExitMs { get; init; } = [];
    public long CreatedAtMs { get; init; }
    public bool DistinctInstance { get; init; }
    public string? MemberOf { get; init; }

    // ---- runtime; empty for tasks without usage models, so they cost nothing
    /// <summary>Containers with their limits and usage models; empty when no container has a usage model.</summary>
    public IReadOnlyList<Runtime.ContainerRuntime> Containers { get; init; } = [];
    /// <summary>Task-level memory (the task's cgroup limit); null = none.</summary>
    public double? TaskMemoryLimitMiB { get; init; }
    /// <summary>The task's priority for the host's OOM killer (oom_score_adj).</summary>
    public int OomScoreAdj { get; init; }
    /// <summary>The run seed, for the usage models' draws (keyed by task id and container).</summary>
    public long Seed { get; init; }
    /// <summary>An essential container fails to start: the task stops from PENDING.</summary>
    public bool StartFails { get; init; }
    /// <summary>Time from RUNNING until an essential container crashes; null = never.</summary>
    public long? CrashAfterMs { get; init; }
    /// <summary>Time from RUNNING until the health check has failed its retries (the task goes UNHEALTHY and is stopped); null = it passes.</summary>
    public long? UnhealthyAfterMs { get; init; }

    /// <summary>
    /// The stop grace period: every container gets SIGTERM at once and SIGKILL at stopTimeout, so the task is down
    /// when its slowest container has exited, or at stopTimeout.
    /// </summary>
    public long StopGraceMs(LaunchPipeline pipeline)
    {
        var graceful = (long)pipeline.GracefulExit.TotalMilliseconds;
        var exit = ContainerExitMs.Count == 0 ? graceful : 0;
        foreach (var ms in ContainerExitMs)
        {
            exit = Math.Max(exit, ms ?? graceful);
        }
        return Math.Min(exit, StopTimeoutMs);
    }

    /// <summary>The placement's view of the task; <paramref name="imageNames"/> are its images' names when the caller has them already.</summary>
    public PendingTask ToPending(IReadOnlyList<string>? imageNames = null) => new()
    {
        TaskId = TaskId,
        Group = Group,
        CapacityProvider = CapacityProvider,
        Need = Need,
        HostPorts = HostPorts,
        Images = imageNames ?? Images.Select(i => i.Name).ToArray(),
        DistinctInstance = DistinctInstance,
        MemberOf = MemberOf,
    };
}

/// <summary>
/// A task's state as its host reports it to the owning service. <paramref name="Unstable"/>: the task is going down
/// (DEACTIVATING) for a failure (start failure, crash, failed health checks, OOM kill) before it was stable; <paramref name="Stable"/>:
/// the task has just become stable (HEALTHY). Both feed the service throttle and the deployment circuit breaker.
/// </summary>
public sealed record TaskUpdate(string TaskId, string? Service, string Group, string State, string Health, string Zone, string? Instance,
    bool Unstable = false, bool Stable = false);
