namespace Scheduler.Core.Batch;

/// <summary>
/// The dependencies between an account's jobs, across its queues. A job waits until every job it depends on has
/// SUCCEEDED (an array job: all its children); when one of them fails, it fails too, and so does every job waiting
/// on it in turn. Pure; every collection is ordered, so resolutions come out in the same order on every run.
/// </summary>
public sealed class JobDependencyGraph
{
    /// <summary>Jobs that finished: true = SUCCEEDED.</summary>
    public SortedDictionary<string, bool> Outcomes { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Jobs submitted and not finished, with their queue's key.</summary>
    public SortedDictionary<string, string> QueueOf { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Waiting jobs: how many of their dependencies have not finished.</summary>
    public SortedDictionary<string, int> Remaining { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Unfinished jobs to the waiting jobs that depend on them, in submission order.</summary>
    public SortedDictionary<string, List<string>> Dependents { get; set; } = new(StringComparer.Ordinal);

    public bool IsKnown(string job) => Outcomes.ContainsKey(job) || QueueOf.ContainsKey(job);

    /// <summary>
    /// A job submitted to <paramref name="queue"/>: ready to run, waiting, already failed (a dependency failed), or
    /// rejected (a dependency was never submitted, as SubmitJob refuses an unknown job id; nothing is recorded).
    /// </summary>
    public (JobReadiness Readiness, string? Reason) Register(string job, string queue, IReadOnlyList<string> dependsOn)
    {
        if (IsKnown(job))
        {
            return (JobReadiness.Rejected, $"a job named '{job}' was already submitted");
        }
        foreach (var dep in dependsOn)
        {
            if (!IsKnown(dep))
            {
                return (JobReadiness.Rejected, $"dependsOn names job '{dep}', which was never submitted");
            }
        }
        if (dependsOn.FirstOrDefault(d => Outcomes.TryGetValue(d, out var ok) && !ok) is { } failed)
        {
            Outcomes[job] = false;
            return (JobReadiness.Failed, $"{JobReasons.DependencyFailed} ({failed})");
        }
        QueueOf[job] = queue;
        var open = dependsOn.Distinct(StringComparer.Ordinal).Where(d => !Outcomes.ContainsKey(d)).ToList();
        if (open.Count == 0)
        {
            return (JobReadiness.Ready, null);
        }
        Remaining[job] = open.Count;
        foreach (var dep in open)
        {
            (Dependents.TryGetValue(dep, out var list) ? list : Dependents[dep] = []).Add(job);
        }
        return (JobReadiness.Waiting, null);
    }

    /// <summary>A job finished: the waiting jobs this settles, by queue key (a failure fails its dependents transitively).</summary>
    public List<(string Queue, JobResolution Resolution)> Finish(string job, bool succeeded)
    {
        var result = new List<(string, JobResolution)>();
        var work = new Queue<(string Job, bool Ok)>();
        work.Enqueue((job, succeeded));
        while (work.Count > 0)
        {
            var (name, ok) = work.Dequeue();
            Outcomes[name] = ok;
            QueueOf.Remove(name);
            // A job cancelled while it waited finishes before its own dependencies settle: it waits no more.
            Remaining.Remove(name);
            if (!Dependents.Remove(name, out var waiting))
            {
                continue;
            }
            foreach (var d in waiting)
            {
                if (!Remaining.TryGetValue(d, out var left))
                {
                    continue; // failed already, through another dependency
                }
                var queue = QueueOf[d];
                if (!ok)
                {
                    Remaining.Remove(d);
                    result.Add((queue, new JobResolution(d, Release: false, $"{JobReasons.DependencyFailed} ({name})")));
                    work.Enqueue((d, false));
                }
                else if (left == 1)
                {
                    Remaining.Remove(d);
                    result.Add((queue, new JobResolution(d, Release: true)));
                }
                else
                {
                    Remaining[d] = left - 1;
                }
            }
        }
        return result;
    }
}
