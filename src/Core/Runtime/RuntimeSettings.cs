namespace Scheduler.Core.Runtime;

/// <summary>
/// Run-wide parameters of the task runtime (scenario section <c>runtime:</c>, README "Task runtime").
/// </summary>
public sealed record RuntimeSettings
{
    /// <summary>
    /// How often a host samples its containers' memory. Samples are only taken while a usage model can cross a
    /// limit (its upper bound is above the limit), so hosts whose tasks cannot run out of memory cost nothing, and
    /// a leak is first looked at when its bound reaches the limit (found analytically), not every minute of a month.
    /// </summary>
    public long MemorySampleIntervalMs { get; init; } = 60_000;
    /// <summary>Memory of each instance the OS and the agent keep for themselves; the tasks' real use beyond the rest invokes the OOM killer.</summary>
    public double HostReservedMemoryMiB { get; init; }
    public BackoffPolicy Backoff { get; init; } = new();

    public static RuntimeSettings Default { get; } = new();
}

/// <summary>
/// The service throttle: after <c>n</c> tasks in a row failed to become stable, the service's next
/// launch waits <c>min(MaxMs, BaseMs × 2^(n−1))</c> after the last failure. The maximum is ECS's documented 27
/// minutes. A task is stable once it is HEALTHY (with a health check) or has been RUNNING for <see cref="StableAfterMs"/>
/// (without one); one stable task clears the count, as does a new task definition revision or a force-new-deployment.
/// </summary>
public sealed record BackoffPolicy
{
    public long BaseMs { get; init; } = 10_000;
    public long MaxMs { get; init; } = 27 * 60_000;
    public long StableAfterMs { get; init; } = 5 * 60_000;

    /// <summary>The delay after <paramref name="failures"/> consecutive failures (0 for none).</summary>
    public long DelayMs(int failures)
    {
        if (failures <= 0)
        {
            return 0;
        }
        var delay = (double)BaseMs * Math.Pow(2, failures - 1);
        return delay >= MaxMs ? MaxMs : (long)delay;
    }
}

/// <summary>A service's throttle state: failures in a row and when the last one happened. Immutable; transitions return a new value.</summary>
public sealed record ServiceBackoff(int Failures, long LastFailureMs)
{
    public static ServiceBackoff None { get; } = new(0, 0);

    public ServiceBackoff Failed(long nowMs) => new(Failures + 1, Math.Max(nowMs, LastFailureMs));

    public long DelayMs(BackoffPolicy policy) => policy.DelayMs(Failures);

    /// <summary>The earliest time the service may launch again.</summary>
    public long NextLaunchAtMs(BackoffPolicy policy) => Failures == 0 ? long.MinValue : LastFailureMs + DelayMs(policy);
}

public static class DeploymentStatus
{
    public const string InProgress = "IN_PROGRESS";
    public const string Completed = "COMPLETED";
    public const string Failed = "FAILED";
}

/// <summary>
/// The deployment circuit breaker (ECS's documented threshold): a deployment fails once
/// <c>clamp(ceil(0.5 × desired), 3, 200)</c> of its tasks failed to become stable before it completed (all
/// desired tasks RUNNING and healthy). With rollback the service goes back to its last completed task
/// definition; without, it stops launching until the next deployment.
/// </summary>
public sealed record DeploymentCircuitBreaker
{
    public bool Enabled { get; init; }
    public bool Rollback { get; init; }
    public required string Deployment { get; init; }
    public string? LastCompleted { get; init; }
    public string Status { get; init; } = DeploymentStatus.InProgress;
    public int Failures { get; init; }

    public static int Threshold(int desired) => Math.Clamp((int)Math.Ceiling(0.5 * desired), 3, 200);

    /// <summary>One task of the current deployment failed; the breaker may trip.</summary>
    public DeploymentCircuitBreaker TaskFailed(int desired)
    {
        if (!Enabled || Status != DeploymentStatus.InProgress)
        {
            return this;
        }
        var failures = Failures + 1;
        return this with { Failures = failures, Status = failures >= Threshold(desired) ? DeploymentStatus.Failed : Status };
    }

    public DeploymentCircuitBreaker Complete() =>
        Status == DeploymentStatus.InProgress ? this with { Status = DeploymentStatus.Completed, LastCompleted = Deployment } : this;

    /// <summary>A new deployment (a new revision, a force-new-deployment, or the rollback itself).</summary>
    public DeploymentCircuitBreaker Start(string taskDefinition) =>
        this with { Deployment = taskDefinition, Status = DeploymentStatus.InProgress, Failures = 0 };

    /// <summary>Tripped with rollback and somewhere to roll back to.</summary>
    public string? RollbackTarget => Status == DeploymentStatus.Failed && Rollback && LastCompleted is { } last && last != Deployment ? last : null;
}
