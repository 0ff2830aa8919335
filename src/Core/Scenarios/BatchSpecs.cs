namespace Scheduler.Core.Scenarios;

/// <summary>
/// A job queue on a cluster (AWS Batch style): jobs submitted to it drain into RunTask on its capacity providers.
/// Queues of one account that have work compete for its RunTask bucket by <see cref="Priority"/> (higher first);
/// <see cref="MaxRunning"/> bounds its jobs in STARTING or RUNNING at once (0 = no bound).
/// </summary>
public sealed record JobQueueSpec
{
    public required string Name { get; init; }
    public int Priority { get; init; } = 1;
    public int MaxRunning { get; init; }
    /// <summary>Resolved strategy: a single capacityProvider becomes one entry of weight 1.</summary>
    public required IReadOnlyList<CapacityProviderStrategyItem> CapacityProviderStrategy { get; init; }
}

/// <summary>
/// SubmitJob: one job, or an array job of <see cref="ArraySize"/> children (indexes 0 .. size-1) when
/// <see cref="ArraySize"/> is given. The job waits until every job in <see cref="DependsOn"/> has SUCCEEDED
/// (all children of an array job); it fails if one of them fails. Each child (or the single job) runs one
/// task at a time and is tried up to <see cref="Attempts"/> times. <see cref="Name"/> is unique in the
/// scenario (the loader names an unnamed job <c>job-NNNNN</c>) and is the job's id.
/// </summary>
public sealed record SubmitJobAction(string Account, string Cluster, string JobQueue, string TaskDefinition, int? ArraySize,
    IReadOnlyList<string> DependsOn, string Name, int Attempts = 1, DurationDistribution? RunTime = null) : TimelineAction
{
    public const int MaxArraySize = 10_000;
    public const int MaxAttempts = 10;
}

/// <summary>
/// CancelJob (AWS Batch): <see cref="Job"/> is a job id (a job's name, or <c>NAME:INDEX</c> for one child of an array
/// job). What has not started yet (SUBMITTED, PENDING or RUNNABLE) fails with <see cref="Reason"/>; what is STARTING
/// or RUNNING goes on, and a job that finished is left as it is, as Batch does. Jobs that depend on a cancelled job fail.
/// </summary>
public sealed record CancelJobAction(string Account, string Job, string Reason) : TimelineAction;

/// <summary>
/// CreateJobQueue: a job queue that comes to exist on a cluster during the run (a live API call, or its recording).
/// <see cref="Providers"/> are the cluster's capacity providers the queue's strategy names, so that the queue knows
/// their launch buckets without the cluster's whole spec.
/// </summary>
public sealed record CreateJobQueueAction(string Account, string Cluster, JobQueueSpec Queue, IReadOnlyList<CapacityProviderSpec> Providers) : TimelineAction;
