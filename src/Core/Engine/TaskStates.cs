namespace Scheduler.Core.Engine;

/// <summary>ECS task lifecycle states, in order.</summary>
public static class TaskStates
{
    public const string Provisioning = "PROVISIONING";
    public const string Pending = "PENDING";
    public const string Activating = "ACTIVATING";
    public const string Running = "RUNNING";
    public const string Deactivating = "DEACTIVATING";
    public const string Stopping = "STOPPING";
    public const string Deprovisioning = "DEPROVISIONING";
    public const string Stopped = "STOPPED";
}

public static class TaskHealth
{
    public const string Unknown = "UNKNOWN";
    public const string Healthy = "HEALTHY";
    public const string Unhealthy = "UNHEALTHY";
}

public static class InstanceStates
{
    public const string Launching = "LAUNCHING";
    public const string Active = "ACTIVE";
    public const string Draining = "DRAINING";
    public const string Terminated = "TERMINATED";
}

/// <summary>Stop reasons as ECS words them.</summary>
public static class StopReasons
{
    public const string EssentialExited = "Essential container in task exited";
    public const string ScalingIn = "Scaling activity initiated by (deployment)";
    public const string Unplaceable = "Unplaceable";
    /// <summary>A managed task stopped after its replacement elsewhere became RUNNING and HEALTHY (start before stop).</summary>
    public const string InstanceDraining = "Container instance draining";
    /// <summary>A managed task moved to another zone by continual rebalancing (start before stop).</summary>
    public const string Rebalancing = "Rebalancing across availability zones";
    /// <summary>A managed task of an earlier deployment stopped by a rolling update, once the new one could take its place.</summary>
    public const string Deployment = "Replaced by a new deployment (rolling update)";
    /// <summary>Prefix of the reason of a task stopped because its host went away (hard limit, Spot, zone failure, lost agent).</summary>
    public const string InstanceTerminatedPrefix = "Container instance terminated";

    public static string InstanceTerminated(string why) => $"{InstanceTerminatedPrefix} ({why})";

    /// <summary>A Fargate Spot task got its two-minute interruption warning (SIGTERM then); its service replaces it.</summary>
    public const string SpotTaskInterrupted = "Your Spot Task was interrupted.";

    /// <summary>An essential container was OOM-killed (over its hard limit, or chosen by the host's OOM killer): exit code 137.</summary>
    public const string OutOfMemory = "OutOfMemoryError: Container killed due to memory usage (exit code 137)";
    /// <summary>An essential container failed to start: the task stops from PENDING.</summary>
    public const string CannotStart = "CannotStartContainerError: essential container failed to start";
    /// <summary>An essential container crashed while RUNNING.</summary>
    public const string Crashed = "Essential container in task exited (exit code 1)";
    /// <summary>The essential container's health check failed its retries; ECS stops the task.</summary>
    public const string HealthCheckFailed = "Task failed container health checks";

    /// <summary>Stops that are the task's own failure (they count towards the service throttle and circuit breaker).</summary>
    public static bool IsFailure(string? reason) => reason is OutOfMemory or CannotStart or Crashed or HealthCheckFailed;
}
