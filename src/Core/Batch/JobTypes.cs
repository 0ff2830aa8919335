using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Batch;

/// <summary>AWS Batch job states, in lifecycle order.</summary>
public enum JobState : byte { Submitted, Pending, Runnable, Starting, Running, Succeeded, Failed }

public static class JobStates
{
    public const string Submitted = "SUBMITTED";
    public const string Pending = "PENDING";
    public const string Runnable = "RUNNABLE";
    public const string Starting = "STARTING";
    public const string Running = "RUNNING";
    public const string Succeeded = "SUCCEEDED";
    public const string Failed = "FAILED";

    private static readonly string[] Names = [Submitted, Pending, Runnable, Starting, Running, Succeeded, Failed];

    public static string Name(JobState state) => Names[(int)state];

    public static bool IsFinal(JobState state) => state is JobState.Succeeded or JobState.Failed;

    /// <summary>
    /// The moves a job may make: forward through the lifecycle; STARTING or RUNNING back to RUNNABLE when a failed
    /// attempt is retried; PENDING to FAILED when a dependency failed (or the job was cancelled); RUNNABLE to FAILED
    /// when the job was cancelled; STARTING to FAILED when the last attempt's task stopped before it ran. A job
    /// reaches SUCCEEDED or FAILED once and never leaves it.
    /// </summary>
    public static bool IsAllowed(JobState from, JobState to) => (from, to) switch
    {
        (JobState.Submitted, JobState.Pending) => true,
        (JobState.Pending, JobState.Runnable) => true,
        (JobState.Pending, JobState.Failed) => true,
        (JobState.Runnable, JobState.Starting) => true,
        (JobState.Runnable, JobState.Failed) => true,
        (JobState.Starting, JobState.Running) => true,
        (JobState.Starting, JobState.Runnable) => true,
        (JobState.Starting, JobState.Failed) => true,
        (JobState.Running, JobState.Runnable) => true,
        (JobState.Running, JobState.Succeeded) => true,
        (JobState.Running, JobState.Failed) => true,
        _ => false,
    };
}

public static class JobReasons
{
    /// <summary>A job whose dependency failed fails without running, as AWS Batch words it.</summary>
    public const string DependencyFailed = "Dependent Job failed";
}

/// <summary>How a job's tasks are recognised: their <c>startedBy</c> is <c>batch/QUEUE/JOB</c>, JOB being the job id
/// (<c>NAME</c>, or <c>NAME:INDEX</c> for a child of an array job, as AWS Batch numbers children).</summary>
public static class JobTaskIds
{
    public const string Prefix = "batch/";

    public static string StartedBy(string queue, string unit) => $"{Prefix}{queue}/{unit}";

    public static string Unit(string job, int arrayIndex) => arrayIndex < 0 ? job : $"{job}:{arrayIndex}";

    /// <summary>The queue and job id of a job task's startedBy; false for any other task.</summary>
    public static bool TryParse(string? startedBy, out string queue, out string unit)
    {
        queue = unit = "";
        if (startedBy is null || !startedBy.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var slash = startedBy.IndexOf('/', Prefix.Length);
        if (slash < 0)
        {
            return false;
        }
        queue = startedBy[Prefix.Length..slash];
        unit = startedBy[(slash + 1)..];
        return true;
    }

    /// <summary>Splits a job id into its job name and array index (-1 for a job that is not a child).</summary>
    public static (string Job, int Index) Split(string unit)
    {
        var colon = unit.LastIndexOf(':');
        return colon > 0 && int.TryParse(unit.AsSpan(colon + 1), out var i) ? (unit[..colon], i) : (unit, -1);
    }
}

/// <summary>One task a job queue starts: the job it runs for (its startedBy) and the capacity provider it goes to.</summary>
public sealed record JobTask(string StartedBy, string CapacityProvider);

/// <summary>One RunTask call a job queue makes: at most ten tasks of one task definition (and run time).</summary>
public sealed record JobRunTaskCall(string TaskDefinition, DurationDistribution? RunTime, IReadOnlyList<JobTask> Tasks);

/// <summary>
/// What a drain may use: RunTask calls (the account's RunTask bucket), and tasks per account launch bucket for
/// providers that have one (Fargate On-Demand and Spot). Buckets not named are unlimited.
/// </summary>
public sealed record JobAllowance(int RunTaskCalls, IReadOnlyDictionary<string, int> LaunchTasks)
{
    public static JobAllowance Unlimited { get; } = new(int.MaxValue, new Dictionary<string, int>(StringComparer.Ordinal));
}

public enum JobReadiness { Ready, Waiting, Failed, Rejected }

/// <summary>A SubmitJob accepted by the account: the job and whether its dependencies let it run now.</summary>
public sealed record JobSubmission(SubmitJobAction Job, JobReadiness Readiness, string? Reason = null);

/// <summary>A CancelJob that reached the job's queue: <see cref="Job"/> is the job id (a job's name, or NAME:INDEX for one child).</summary>
public sealed record JobCancellation(string Job, string Reason);

/// <summary>A waiting job's dependencies are settled: <see cref="Release"/> = all succeeded (RUNNABLE), else it fails with <see cref="Reason"/>.</summary>
public sealed record JobResolution(string Job, bool Release, string? Reason = null);

/// <summary>What a job's task did, from the cluster's task events: it reached RUNNING, or it STOPPED (<see cref="Succeeded"/>: its essential container exited by itself).</summary>
public sealed record JobTaskOutcome(string Unit, string Task, bool Stopped, bool Succeeded, string? Reason);

/// <summary>A job (single, or the parent of an array job once every child is done) that reached SUCCEEDED or FAILED.</summary>
public sealed record JobFinished(string Job, bool Succeeded);

/// <summary>
/// What one step of a job queue produced: its job events, the RunTask calls it made, the allowance left for the queues
/// after it, the jobs that finished, and whether it still has RUNNABLE jobs it could start with more allowance.
/// </summary>
public sealed record JobQueueStep(IReadOnlyList<SimEvent> Events, IReadOnlyList<JobRunTaskCall> Calls, JobAllowance Left,
    IReadOnlyList<JobFinished> Finished, bool CanDrainMore);

/// <summary>
/// Not a scenario entry: the RunTask calls an account's job queues made in this tick, handed to the queue's cluster
/// to create their tasks. The account has already drawn the calls from its RunTask bucket (and the tasks from
/// the launch buckets), so the cluster does not draw again.
/// </summary>
public sealed record StartJobTasksAction(string Account, string Cluster, IReadOnlyList<JobRunTaskCall> Calls) : TimelineAction;
