using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Batch;

/// <summary>A job queue of an account: its key (cluster/name), its priority, and the account launch buckets its providers draw on.</summary>
public sealed record JobQueueRef(string Cluster, string Name, int Priority, IReadOnlyList<string> LaunchBuckets)
{
    public string Key => KeyOf(Cluster, Name);

    public static string KeyOf(string cluster, string queue) => $"{cluster}/{queue}";
}

/// <summary>
/// An account's side of its job queues: the order in which queues drain (higher priority first; ties by cluster,
/// then queue name), the dependency graph across them, and what each queue is owed at its next step (settled
/// dependencies; whether it still has work it could start). Pure; the account grain calls the queues in the order
/// this gives and hands each the allowance the queues before it left.
/// </summary>
public sealed class BatchAccountModel
{
    public List<JobQueueRef> Queues { get; set; } = [];
    public JobDependencyGraph Graph { get; set; } = new();
    /// <summary>Settled dependencies not yet delivered, by queue key.</summary>
    public SortedDictionary<string, List<JobResolution>> Resolutions { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Queues with RUNNABLE jobs they could start if they had more allowance: they drain again next tick.</summary>
    public SortedSet<string> ToDrain { get; set; } = new(StringComparer.Ordinal);

    public static BatchAccountModel For(AccountSpec account) => new()
    {
        Queues = DrainOrder(account.Clusters.SelectMany(c => c.JobQueues.Select(q => new JobQueueRef(c.Name, q.Name, q.Priority,
            JobQueueModel.LaunchBucketsOf(c, q).Select(x => x.Bucket).Distinct(StringComparer.Ordinal).ToArray())))),
    };

    /// <summary>Higher priority first; equal priorities by cluster name, then queue name.</summary>
    public static List<JobQueueRef> DrainOrder(IEnumerable<JobQueueRef> queues) =>
        [.. queues.OrderByDescending(q => q.Priority).ThenBy(q => q.Cluster, StringComparer.Ordinal).ThenBy(q => q.Name, StringComparer.Ordinal)];

    public bool HasWork => Resolutions.Count > 0 || ToDrain.Count > 0;

    /// <summary>A SubmitJob the account's SubmitJob bucket let through: registered with the graph; null with an error event when refused.</summary>
    public JobSubmission? Submit(long nowMs, SubmitJobAction a, out SimEvent? error)
    {
        var key = JobQueueRef.KeyOf(a.Cluster, a.JobQueue);
        var (readiness, reason) = Graph.Register(a.Name, key, a.DependsOn);
        if (readiness == JobReadiness.Rejected)
        {
            error = new SimEvent
            {
                TimeMs = nowMs, Kind = EventKinds.ApiError, Account = a.Account, Cluster = a.Cluster,
                Api = ApiErrors.SubmitJob, Error = ApiErrors.ClientException, Requested = Math.Max(1, a.ArraySize ?? 1), Reason = $"job '{a.Name}': {reason}",
                Job = a.Name, Queue = a.JobQueue,
            };
            return null;
        }
        error = null;
        return new JobSubmission(a, readiness, reason);
    }

    /// <summary>
    /// A tick's CancelJob calls by the queue each goes to: that of the job it names (or of the array job whose child it
    /// names), in call order. A call naming a job that finished or was never submitted changes nothing and is left out.
    /// </summary>
    public Dictionary<string, List<JobCancellation>> Cancellations(IEnumerable<CancelJobAction> cancels)
    {
        var byQueue = new Dictionary<string, List<JobCancellation>>(StringComparer.Ordinal);
        foreach (var a in cancels)
        {
            if (Graph.QueueOf.TryGetValue(a.Job, out var queue) || Graph.QueueOf.TryGetValue(JobTaskIds.Split(a.Job).Job, out queue))
            {
                (byQueue.TryGetValue(queue, out var list) ? list : byQueue[queue] = []).Add(new JobCancellation(a.Job, a.Reason));
            }
        }
        return byQueue;
    }

    /// <summary>Queue <paramref name="queueKey"/> finished these jobs: the dependencies they settle wait for their queues' next step.</summary>
    public void Finished(IEnumerable<JobFinished> finished)
    {
        foreach (var f in finished)
        {
            foreach (var (queue, resolution) in Graph.Finish(f.Job, f.Succeeded))
            {
                (Resolutions.TryGetValue(queue, out var list) ? list : Resolutions[queue] = []).Add(resolution);
            }
        }
    }

    /// <summary>Queues to step now: those with submissions, cancellations, settled dependencies, or work left from their last step; in drain order.</summary>
    public List<JobQueueRef> DueQueues(IReadOnlyDictionary<string, List<JobSubmission>> submissions,
        IReadOnlyDictionary<string, List<JobCancellation>> cancellations) =>
        [.. Queues.Where(q => submissions.ContainsKey(q.Key) || cancellations.ContainsKey(q.Key) || Resolutions.ContainsKey(q.Key)
            || ToDrain.Contains(q.Key))];

    /// <summary>
    /// One drain round: each due queue in drain order gets its submissions, its settled dependencies, its
    /// cancellations and what the queues before it left of <paramref name="allowance"/>. Returns the queues' events, their RunTask calls by
    /// cluster, and the allowance left (the caller takes the difference from the buckets).
    /// </summary>
    public async Task<(List<SimEvent> Events, SortedDictionary<string, List<JobRunTaskCall>> Calls, JobAllowance Left)> DrainAsync(
        long nowMs, IReadOnlyList<JobQueueRef> due, IReadOnlyDictionary<string, List<JobSubmission>> submissions, JobAllowance allowance,
        Func<JobQueueRef, IReadOnlyList<JobSubmission>, IReadOnlyList<JobResolution>, JobAllowance, IReadOnlyList<JobCancellation>, Task<JobQueueStep>> drain,
        IReadOnlyDictionary<string, List<JobCancellation>> cancellations)
    {
        var events = new List<SimEvent>();
        var calls = new SortedDictionary<string, List<JobRunTaskCall>>(StringComparer.Ordinal);
        foreach (var q in due)
        {
            var step = await drain(q, submissions.GetValueOrDefault(q.Key) ?? [], TakeResolutions(q.Key), allowance,
                cancellations.GetValueOrDefault(q.Key) ?? []);
            events.AddRange(step.Events);
            allowance = step.Left;
            After(q.Key, step);
            if (step.Calls.Count > 0)
            {
                (calls.TryGetValue(q.Cluster, out var list) ? list : calls[q.Cluster] = []).AddRange(step.Calls);
            }
        }
        return (events, calls, allowance);
    }

    /// <summary>Job task progress from this tick's cluster events goes to the queues (in queue key order); returns their events.</summary>
    public async Task<List<SimEvent>> ObserveAsync(IEnumerable<SimEvent> clusterEvents, Func<JobQueueRef, IReadOnlyList<JobTaskOutcome>, Task<JobQueueStep>> observe)
    {
        var events = new List<SimEvent>();
        foreach (var (key, outcomes) in Outcomes(clusterEvents))
        {
            if (Queues.FirstOrDefault(q => q.Key == key) is not { } queue)
            {
                continue;
            }
            var step = await observe(queue, outcomes);
            events.AddRange(step.Events);
            After(key, step);
        }
        return events;
    }

    /// <summary>A queue's step: the jobs it finished settle their dependents; it drains again next tick if it could start more.</summary>
    private void After(string queueKey, JobQueueStep step)
    {
        Finished(step.Finished);
        if (step.CanDrainMore)
        {
            ToDrain.Add(queueKey);
        }
        else
        {
            ToDrain.Remove(queueKey);
        }
    }

    /// <summary>The resolutions owed to a queue, taken.</summary>
    public List<JobResolution> TakeResolutions(string queueKey) => Resolutions.Remove(queueKey, out var list) ? list : [];

    /// <summary>
    /// Job task progress from a cluster's events (tasks whose startedBy names a job), by queue key, in log order:
    /// first RUNNING, and STOPPED with whether the essential container exited by itself (the job's success).
    /// </summary>
    public static SortedDictionary<string, List<JobTaskOutcome>> Outcomes(IEnumerable<SimEvent> events)
    {
        var result = new SortedDictionary<string, List<JobTaskOutcome>>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.Kind != EventKinds.Task || e.State is not (TaskStates.Running or TaskStates.Stopped)
                || !JobTaskIds.TryParse(e.StartedBy, out var queue, out var unit))
            {
                continue;
            }
            var stopped = e.State == TaskStates.Stopped;
            var key = JobQueueRef.KeyOf(e.Cluster, queue);
            (result.TryGetValue(key, out var list) ? list : result[key] = []).Add(
                new JobTaskOutcome(unit, e.Task ?? "", stopped, stopped && e.Reason == StopReasons.EssentialExited, e.Reason));
        }
        return result;
    }
}
