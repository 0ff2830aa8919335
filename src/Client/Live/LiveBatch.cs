using Scheduler.Core.Batch;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client.Live;

/// <summary>A job queue as the Batch API shows it: the scenario's (a cluster's <c>jobQueues</c>) or one CreateJobQueue made.</summary>
public sealed class LiveJobQueue(string name, string cluster, int priority, IReadOnlyList<CapacityProviderStrategyItem> strategy, long createdAtMs)
{
    public string Name { get; } = name;
    public string Cluster { get; } = cluster;
    public int Priority { get; } = priority;
    public IReadOnlyList<CapacityProviderStrategyItem> Strategy { get; } = strategy;
    public long CreatedAtMs { get; } = createdAtMs;
    /// <summary>Top-level jobs (single jobs and array parents) in submission order.</summary>
    public List<LiveJob> Jobs { get; } = [];
}

/// <summary>One try of a job (or array child): the task it ran, when, and how it ended.</summary>
public sealed class LiveJobAttempt
{
    public string? Task { get; set; }
    public long? StartedAtMs { get; set; }
    public long? StoppedAtMs { get; set; }
    public string? Reason { get; set; }
}

/// <summary>A job as DescribeJobs and ListJobs show it, kept current from the engine's <c>job</c> events.</summary>
public sealed class LiveJob(string id, string name, LiveJobQueue queue, string taskDefinition, long createdAtMs)
{
    /// <summary>The job id: a UUID (from the API) or the scenario's job name; an array child's is <c>PARENT:INDEX</c>.</summary>
    public string Id { get; } = id;
    public string Name { get; } = name;
    public LiveJobQueue Queue { get; } = queue;
    /// <summary>"family:revision" (or the scenario's reference) of the task definition its tasks run.</summary>
    public string TaskDefinition { get; set; } = taskDefinition;
    public long CreatedAtMs { get; set; } = createdAtMs;
    public string Status { get; set; } = JobStates.Submitted;
    public string? StatusReason { get; set; }
    public long? StartedAtMs { get; set; }
    public long? StoppedAtMs { get; set; }
    public IReadOnlyList<string> DependsOn { get; set; } = [];
    public int RetryAttempts { get; set; } = 1;
    /// <summary>An array parent's size (0 = not an array parent).</summary>
    public int ArraySize { get; set; }
    /// <summary>An array child's index (-1 = not a child).</summary>
    public int ArrayIndex { get; set; } = -1;
    public LiveJob? Parent { get; set; }
    public LiveJob[] Children { get; set; } = [];
    public List<LiveJobAttempt> Attempts { get; } = [];

    public bool IsFinal => Status is JobStates.Succeeded or JobStates.Failed;
}

public sealed partial class LiveModel
{
    /// <summary>Finished top-level jobs in the order they finished, so that forgetting them never walks the live ones.</summary>
    private readonly Queue<(LiveAccount Account, LiveJob Job)> _finishedJobs = new();
    /// <summary>The scenario timeline's own submitJob entries, by account and job name: what their jobs show.</summary>
    private readonly Dictionary<(string Account, string Job), SubmitJobAction> _fileJobs = [];

    /// <summary>A job the API accepted: visible (SUBMITTED) at once, before the engine's events about it arrive.</summary>
    public void AddJob(LiveAccount account, LiveJob job)
    {
        account.Jobs[job.Id] = job;
        job.Queue.Jobs.Add(job);
        foreach (var child in job.Children)
        {
            account.Jobs[child.Id] = child;
        }
    }

    private void ApplyJob(LiveAccount account, SimEvent e)
    {
        if (e.Job is not { } id || e.State is not { } state)
        {
            return;
        }
        if (!account.Jobs.TryGetValue(id, out var job))
        {
            // A job of the scenario's own timeline: known from its first event.
            if (e.ArrayIndex is { } index)
            {
                var (parentId, _) = JobTaskIds.Split(id);
                if (!account.Jobs.TryGetValue(parentId, out var parent) || index >= parent.Children.Length)
                {
                    return;
                }
                job = parent.Children[index] = new LiveJob(id, $"{parent.Name}:{index}", parent.Queue, parent.TaskDefinition, e.TimeMs)
                {
                    ArrayIndex = index, Parent = parent,
                };
                account.Jobs[id] = job;
            }
            else
            {
                if (!account.JobQueues.TryGetValue(e.Queue ?? "", out var queue) || queue.Cluster != e.Cluster)
                {
                    return;
                }
                var submit = _fileJobs.GetValueOrDefault((account.Spec.Id, id));
                var td = submit is null ? "" : submit.TaskDefinition.Contains(':') ? submit.TaskDefinition
                    : LiveModel.Label(account.TaskDefinitions.Values.Where(t => t.Spec.Family == submit.TaskDefinition).MaxBy(t => t.Spec.Revision)?.Spec
                        ?? new TaskDefinitionSpec { Family = submit.TaskDefinition, Containers = [] });
                job = new LiveJob(id, id, queue, td, e.TimeMs)
                {
                    ArraySize = e.ArraySize ?? 0, DependsOn = submit?.DependsOn ?? [], RetryAttempts = submit?.Attempts ?? 1,
                };
                job.Children = new LiveJob[job.ArraySize];
                account.Jobs[id] = job;
                queue.Jobs.Add(job);
            }
        }
        if (job.Status == state)
        {
            return;
        }
        job.Status = state;
        var open = job.Attempts.Count > 0 && job.Attempts[^1].StoppedAtMs is null ? job.Attempts[^1] : null;
        switch (state)
        {
            case JobStates.Starting when job.ArraySize == 0:
                job.Attempts.Add(new LiveJobAttempt());
                break;
            case JobStates.Running:
                job.StartedAtMs ??= e.TimeMs;
                if (open is not null)
                {
                    open.Task = e.Task ?? open.Task;
                    open.StartedAtMs ??= e.TimeMs;
                }
                break;
            case JobStates.Runnable when open is not null:
                // A failed try with attempts left.
                open.Task = e.Task ?? open.Task;
                open.StoppedAtMs = e.TimeMs;
                open.Reason = e.Reason;
                break;
            case JobStates.Succeeded or JobStates.Failed:
                job.StoppedAtMs = e.TimeMs;
                job.StatusReason = e.Reason ?? (state == JobStates.Succeeded && job.ArraySize == 0 ? "Essential container in task exited" : null);
                if (open is not null)
                {
                    open.Task = e.Task ?? open.Task;
                    open.StoppedAtMs = e.TimeMs;
                    open.Reason = e.Reason;
                }
                if (job.Parent is null)
                {
                    _finishedJobs.Enqueue((account, job));
                }
                break;
        }
    }

    /// <summary>Forgets finished top-level jobs (and their children) that ended more than the retention ago.</summary>
    private void SweepJobs(long nowMs)
    {
        while (_finishedJobs.TryPeek(out var next) && next.Job.StoppedAtMs is { } at && at + RetainMs < nowMs)
        {
            _finishedJobs.Dequeue();
            var (account, job) = next;
            account.Jobs.Remove(job.Id);
            foreach (var child in job.Children)
            {
                if (child is not null)
                {
                    account.Jobs.Remove(child.Id);
                }
            }
            job.Queue.Jobs.Remove(job);
        }
    }

    private static void AddScenarioQueues(LiveAccount account, ClusterSpec cluster)
    {
        foreach (var q in cluster.JobQueues)
        {
            // The Batch API names queues per account: where two clusters have a queue of one name, the first one answers.
            account.JobQueues.TryAdd(q.Name, new LiveJobQueue(q.Name, cluster.Name, q.Priority, q.CapacityProviderStrategy, 0));
        }
    }
}

public sealed partial class LiveAccount
{
    /// <summary>Job queues by name (the Batch API's view: one namespace per account).</summary>
    public SortedDictionary<string, LiveJobQueue> JobQueues { get; } = new(StringComparer.Ordinal);
    /// <summary>Jobs and array children by id.</summary>
    public Dictionary<string, LiveJob> Jobs { get; } = new(StringComparer.Ordinal);
    /// <summary>Counts the jobs this account's SubmitJob calls made, for their ids.</summary>
    public long JobCount { get; set; }
}
