using Scheduler.Core.Engine;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Batch;

/// <summary>One submitted job as its queue holds it: a single job (one unit), or an array job (one unit per child).</summary>
public sealed class QueuedJob
{
    public string Name { get; set; } = "";
    public string TaskDefinition { get; set; } = "";
    public DurationDistribution? RunTime { get; set; }
    /// <summary>Children of an array job; 0 for a single job.</summary>
    public int ArraySize { get; set; }
    /// <summary>Tries each unit gets (retryStrategy attempts).</summary>
    public int Attempts { get; set; } = 1;
    /// <summary>The job's own state: the single job's, or the array parent's.</summary>
    public JobState State { get; set; }
    /// <summary>Each unit's state (one byte per child).</summary>
    public byte[] Units { get; set; } = [];
    /// <summary>Attempts each unit has started.</summary>
    public byte[] Tries { get; set; } = [];
    /// <summary>Each live unit's capacity provider (index into the queue's strategy), so it is counted off when it ends.</summary>
    public byte[] Providers { get; set; } = [];
    public int Finished { get; set; }
    public int FailedUnits { get; set; }

    public bool IsArray => ArraySize > 0;
}

/// <summary>
/// A job queue (AWS Batch style), the pure model behind the job queue grain. Jobs move SUBMITTED → PENDING →
/// RUNNABLE → STARTING → RUNNING → SUCCEEDED | FAILED. A drain turns RUNNABLE jobs into RunTask calls of at most
/// ten tasks, first in first out (submission order, then array index), as far as the allowance (the account's
/// RunTask calls and launch buckets, handed down from higher-priority queues) and <see cref="MaxRunning"/> let it.
/// A failed attempt goes back to RUNNABLE, in its old place, while it has attempts left. Every method takes the
/// simulated time; nothing reads a clock.
/// </summary>
public sealed class JobQueueModel
{
    /// <summary>Array index bits of a unit key: a unit is (job sequence number, array index), ordered as submitted.</summary>
    private const int IndexBits = 14;

    public string Account { get; set; } = "";
    public string Cluster { get; set; } = "";
    public string Name { get; set; } = "";
    public int MaxRunning { get; set; }
    public List<CapacityProviderStrategyItem> Strategy { get; set; } = [];
    /// <summary>The account launch bucket of each provider that has one (Fargate), by provider name.</summary>
    public SortedDictionary<string, string> LaunchBuckets { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Jobs in submission order; a job's sequence number is its index.</summary>
    public List<QueuedJob> Jobs { get; set; } = [];
    public Dictionary<string, int> ByName { get; set; } = new(StringComparer.Ordinal);
    /// <summary>RUNNABLE units by key, oldest first.</summary>
    public SortedSet<long> Runnable { get; set; } = [];
    /// <summary>Units in STARTING or RUNNING.</summary>
    public int Live { get; set; }
    /// <summary>Live units per capacity provider, for the strategy's base and weights.</summary>
    public SortedDictionary<string, int> ProviderCounts { get; set; } = new(StringComparer.Ordinal);

    public static JobQueueModel Create(string account, ClusterSpec cluster, JobQueueSpec spec)
    {
        var model = new JobQueueModel
        {
            Account = account, Cluster = cluster.Name, Name = spec.Name, MaxRunning = spec.MaxRunning,
            Strategy = [.. spec.CapacityProviderStrategy],
        };
        foreach (var (provider, bucket) in LaunchBucketsOf(cluster, spec))
        {
            model.LaunchBuckets[provider] = bucket;
        }
        return model;
    }

    /// <summary>The account launch bucket of each of the queue's providers that has one (Fargate On-Demand or Spot).</summary>
    public static IEnumerable<(string Provider, string Bucket)> LaunchBucketsOf(ClusterSpec cluster, JobQueueSpec spec)
    {
        foreach (var item in spec.CapacityProviderStrategy)
        {
            var type = cluster.CapacityProviders.First(cp => cp.Name == item.CapacityProvider).Type;
            if (BucketNames.LaunchBucket(type) is { } bucket)
            {
                yield return (item.CapacityProvider, bucket);
            }
        }
    }

    public bool CanDrainMore => Runnable.Count > 0 && (MaxRunning <= 0 || Live < MaxRunning);

    /// <summary>Submissions, settled dependencies and cancellations first, then the drain.</summary>
    public JobQueueStep Drain(long nowMs, IReadOnlyList<JobSubmission> submissions, IReadOnlyList<JobResolution> resolutions, JobAllowance allowance,
        IReadOnlyList<JobCancellation>? cancellations = null)
    {
        var events = new List<SimEvent>();
        var finished = new List<JobFinished>();
        foreach (var s in submissions)
        {
            Submit(nowMs, s, events, finished);
        }
        foreach (var r in resolutions)
        {
            if (ByName.TryGetValue(r.Job, out var seq) && Jobs[seq].State == JobState.Pending)
            {
                if (r.Release)
                {
                    Release(nowMs, Jobs[seq], events);
                }
                else
                {
                    FailWaiting(nowMs, Jobs[seq], r.Reason ?? JobReasons.DependencyFailed, events);
                }
            }
        }
        foreach (var c in cancellations ?? [])
        {
            Cancel(nowMs, c, events, finished);
        }
        var (calls, left) = Take(nowMs, allowance, events);
        return new JobQueueStep(events, calls, left, finished, CanDrainMore);
    }

    /// <summary>
    /// CancelJob: the job's units (or the one child it names) that have not started fail with the caller's reason;
    /// units in STARTING or RUNNING go on. An unknown or finished job is left as it is.
    /// </summary>
    private void Cancel(long nowMs, JobCancellation c, List<SimEvent> events, List<JobFinished> finished)
    {
        var (name, index) = ByName.ContainsKey(c.Job) ? (c.Job, -1) : JobTaskIds.Split(c.Job);
        if (!ByName.TryGetValue(name, out var seq))
        {
            return;
        }
        var job = Jobs[seq];
        if (index >= 0 && (!job.IsArray || index >= job.ArraySize))
        {
            return;
        }
        var (from, to) = index >= 0 ? (index, index + 1) : (0, job.Units.Length);
        for (var u = from; u < to; u++)
        {
            if ((JobState)job.Units[u] is not (JobState.Submitted or JobState.Pending or JobState.Runnable))
            {
                continue;
            }
            Runnable.Remove(Key(seq, u));
            SetUnit(nowMs, job, u, JobState.Failed, events, null, c.Reason);
            UnitDone(nowMs, job, failed: true, events, finished);
        }
    }

    /// <summary>What the queue's tasks did since the last step, in log order.</summary>
    public JobQueueStep Observe(long nowMs, IReadOnlyList<JobTaskOutcome> outcomes)
    {
        var events = new List<SimEvent>();
        var finished = new List<JobFinished>();
        foreach (var o in outcomes)
        {
            var (name, index) = JobTaskIds.Split(o.Unit);
            if (!ByName.TryGetValue(name, out var seq))
            {
                continue;
            }
            var job = Jobs[seq];
            var u = Math.Max(0, index);
            if (u >= job.Units.Length || (index < 0) != !job.IsArray)
            {
                continue;
            }
            var state = (JobState)job.Units[u];
            if (!o.Stopped)
            {
                if (state == JobState.Starting)
                {
                    SetUnit(nowMs, job, u, JobState.Running, events, o.Task, null);
                    if (job.IsArray && job.State == JobState.Starting)
                    {
                        SetParent(nowMs, job, JobState.Running, events, null);
                    }
                }
                continue;
            }
            if (state is not (JobState.Starting or JobState.Running))
            {
                continue;
            }
            Live--;
            var cp = Strategy[job.Providers[u]].CapacityProvider;
            ProviderCounts[cp] = Math.Max(0, ProviderCounts.GetValueOrDefault(cp) - 1);
            if (o.Succeeded && state == JobState.Running)
            {
                SetUnit(nowMs, job, u, JobState.Succeeded, events, o.Task, o.Reason);
                UnitDone(nowMs, job, failed: false, events, finished);
            }
            else if (job.Tries[u] < job.Attempts)
            {
                SetUnit(nowMs, job, u, JobState.Runnable, events, o.Task, $"Attempt {job.Tries[u]} failed: {o.Reason}");
                Runnable.Add(Key(seq, u));
            }
            else
            {
                SetUnit(nowMs, job, u, JobState.Failed, events, o.Task, o.Reason);
                UnitDone(nowMs, job, failed: true, events, finished);
            }
        }
        return new JobQueueStep(events, [], JobAllowance.Unlimited, finished, CanDrainMore);
    }

    private void Submit(long nowMs, JobSubmission s, List<SimEvent> events, List<JobFinished> finished)
    {
        var a = s.Job;
        if (ByName.ContainsKey(a.Name))
        {
            return;
        }
        var size = a.ArraySize ?? 0;
        var units = Math.Max(1, size);
        var job = new QueuedJob
        {
            Name = a.Name, TaskDefinition = a.TaskDefinition, RunTime = a.RunTime, ArraySize = size, Attempts = Math.Max(1, a.Attempts),
            Units = new byte[units], Tries = new byte[units], Providers = new byte[units],
        };
        ByName[a.Name] = Jobs.Count;
        Jobs.Add(job);
        SetAll(nowMs, job, JobState.Submitted, events, null, initial: true);
        SetAll(nowMs, job, JobState.Pending, events, null);
        switch (s.Readiness)
        {
            case JobReadiness.Ready:
                Release(nowMs, job, events);
                break;
            case JobReadiness.Failed:
                // Not reported as finished: the account's dependency graph settled it when it was submitted.
                FailWaiting(nowMs, job, s.Reason ?? JobReasons.DependencyFailed, events);
                break;
        }
    }

    /// <summary>A waiting job's dependencies succeeded: its units (but children cancelled meanwhile) become RUNNABLE.</summary>
    private void Release(long nowMs, QueuedJob job, List<SimEvent> events)
    {
        SetAll(nowMs, job, JobState.Runnable, events, null);
        var seq = ByName[job.Name];
        for (var u = 0; u < job.Units.Length; u++)
        {
            if ((JobState)job.Units[u] == JobState.Runnable)
            {
                Runnable.Add(Key(seq, u));
            }
        }
    }

    /// <summary>A waiting job's dependency failed: the job and its units (but children cancelled meanwhile, already failed) fail.</summary>
    private void FailWaiting(long nowMs, QueuedJob job, string reason, List<SimEvent> events)
    {
        var open = job.Units.Count(u => !JobStates.IsFinal((JobState)u));
        SetAll(nowMs, job, JobState.Failed, events, reason);
        job.Finished += open;
        job.FailedUnits += open;
    }

    /// <summary>
    /// The drain: RUNNABLE units oldest first, each to the capacity provider its strategy picks; consecutive units of
    /// one task definition share a RunTask call up to ten tasks. Stops at the first unit the allowance or
    /// <see cref="MaxRunning"/> cannot take, so a queue never jumps its own order.
    /// </summary>
    private (List<JobRunTaskCall> Calls, JobAllowance Left) Take(long nowMs, JobAllowance allowance, List<SimEvent> events)
    {
        var calls = new List<JobRunTaskCall>();
        var callsLeft = allowance.RunTaskCalls;
        var launch = new Dictionary<string, int>(allowance.LaunchTasks, StringComparer.Ordinal);
        var slots = MaxRunning <= 0 ? int.MaxValue : MaxRunning - Live;
        var taken = new List<long>();
        List<JobTask>? current = null;
        QueuedJob? currentJob = null;
        foreach (var key in Runnable)
        {
            if (slots <= 0)
            {
                break;
            }
            var (seq, u) = Unkey(key);
            var job = Jobs[seq];
            var pick = PickProvider();
            var cp = Strategy[pick].CapacityProvider;
            if (LaunchBuckets.TryGetValue(cp, out var bucket) && launch.GetValueOrDefault(bucket) <= 0)
            {
                break;
            }
            var joins = current is not null && current.Count < BucketNames.RunTaskMaxCount && currentJob is not null
                && currentJob.TaskDefinition == job.TaskDefinition && Equals(currentJob.RunTime, job.RunTime);
            if (!joins)
            {
                if (callsLeft <= 0)
                {
                    break;
                }
                callsLeft--;
                current = [];
                currentJob = job;
                calls.Add(new JobRunTaskCall(job.TaskDefinition, job.RunTime, current));
            }
            if (bucket is not null)
            {
                launch[bucket]--;
            }
            current!.Add(new JobTask(JobTaskIds.StartedBy(Name, JobTaskIds.Unit(job.Name, job.IsArray ? u : -1)), cp));
            slots--;
            Live++;
            ProviderCounts[cp] = ProviderCounts.GetValueOrDefault(cp) + 1;
            job.Providers[u] = (byte)pick;
            job.Tries[u]++;
            SetUnit(nowMs, job, u, JobState.Starting, events, null, null);
            if (job.IsArray && job.State == JobState.Runnable)
            {
                SetParent(nowMs, job, JobState.Starting, events, null);
            }
            taken.Add(key);
        }
        foreach (var key in taken)
        {
            Runnable.Remove(key);
        }
        return (calls, new JobAllowance(callsLeft, launch));
    }

    private int PickProvider()
    {
        if (Strategy.Count == 1)
        {
            return 0;
        }
        var cp = CapacityProviderStrategies.Next(Strategy, ProviderCounts);
        return Strategy.FindIndex(s => s.CapacityProvider == cp);
    }

    private void UnitDone(long nowMs, QueuedJob job, bool failed, List<SimEvent> events, List<JobFinished> finished)
    {
        job.Finished++;
        if (failed)
        {
            job.FailedUnits++;
        }
        if (!job.IsArray)
        {
            finished.Add(new JobFinished(job.Name, !failed));
            return;
        }
        if (job.Finished == job.ArraySize)
        {
            // An array job succeeds when every child did, and fails when any child failed.
            var ok = job.FailedUnits == 0;
            SetParent(nowMs, job, ok ? JobState.Succeeded : JobState.Failed, events,
                ok ? null : $"{job.FailedUnits} of {job.ArraySize} child jobs failed");
            finished.Add(new JobFinished(job.Name, ok));
        }
    }

    /// <summary>The job and, for an array job, each child that has not finished (a child may be cancelled alone): parent first.</summary>
    private void SetAll(long nowMs, QueuedJob job, JobState state, List<SimEvent> events, string? reason, bool initial = false)
    {
        if (job.IsArray)
        {
            SetParent(nowMs, job, state, events, reason, initial);
        }
        for (var u = 0; u < job.Units.Length; u++)
        {
            if (initial || !JobStates.IsFinal((JobState)job.Units[u]))
            {
                SetUnit(nowMs, job, u, state, events, null, reason, initial);
            }
        }
    }

    private void SetParent(long nowMs, QueuedJob job, JobState state, List<SimEvent> events, string? reason, bool initial = false)
    {
        Check(job.State, state, initial, job.Name);
        job.State = state;
        events.Add(Event(nowMs, job.Name, null, state, 0, null, reason) with { ArraySize = job.ArraySize });
    }

    private void SetUnit(long nowMs, QueuedJob job, int u, JobState state, List<SimEvent> events, string? task, string? reason, bool initial = false)
    {
        Check((JobState)job.Units[u], state, initial, job.Name);
        job.Units[u] = (byte)state;
        if (!job.IsArray)
        {
            job.State = state;
        }
        events.Add(Event(nowMs, JobTaskIds.Unit(job.Name, job.IsArray ? u : -1), job.IsArray ? u : null, state, job.Tries[u], task, reason));
    }

    private static void Check(JobState from, JobState to, bool initial, string job)
    {
        if (!initial && !JobStates.IsAllowed(from, to))
        {
            throw new InvalidOperationException($"job {job}: {JobStates.Name(from)} -> {JobStates.Name(to)} is not a job transition");
        }
    }

    private SimEvent Event(long nowMs, string job, int? arrayIndex, JobState state, int attempt, string? task, string? reason) => new()
    {
        TimeMs = nowMs, Kind = EventKinds.Job, Account = Account, Cluster = Cluster,
        Job = job, Queue = Name, ArrayIndex = arrayIndex, State = JobStates.Name(state), Attempt = attempt, Task = task, Reason = reason,
    };

    private static long Key(int seq, int unit) => ((long)seq << IndexBits) | (uint)unit;

    /// <summary>A job id's place in this queue's order (submission, then array index); the order <see cref="Runnable"/> keeps.</summary>
    public long KeyOf(string unit)
    {
        var (name, index) = JobTaskIds.Split(unit);
        return Key(ByName[name], Math.Max(0, index));
    }

    private static (int Seq, int Unit) Unkey(long key) => ((int)(key >> IndexBits), (int)(key & ((1 << IndexBits) - 1)));
}
