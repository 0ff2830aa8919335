using Scheduler.Abstractions;
using Scheduler.Core.Batch;
using Scheduler.Core.Engine;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Grains;

/// <summary>
/// The account's job queues. Each tick, before its clusters: SubmitJob calls (through the account's SubmitJob
/// bucket), then every queue with work drains in priority order, each within what the queues before it left of the
/// account's RunTask bucket (and Fargate launch buckets); their calls go to the clusters as inputs of this tick.
/// After the clusters: what the job tasks did goes back to their queues, and finished jobs settle their dependents
/// for the next tick. All calls are sequential and in a fixed order, so the log never depends on arrival.
/// </summary>
public sealed partial class AccountGrain
{
    private readonly HashSet<string> _calledQueues = new(StringComparer.Ordinal);

    private bool HasJobQueues => state.State.Batch is { Queues.Count: > 0 };

    private async Task InitJobQueues(AccountSetup setup)
    {
        var batch = BatchAccountModel.For(setup.Account);
        state.State.Batch = batch;
        foreach (var q in batch.Queues)
        {
            var cluster = setup.Account.Clusters.First(c => c.Name == q.Cluster);
            await Queue(q.Key).Init(setup.Account.Id, cluster, cluster.JobQueues.First(j => j.Name == q.Name));
        }
    }

    /// <summary>A job queue created during the run: it takes its place in the drain order and drains from this tick on.</summary>
    private async Task CreateJobQueue(CreateJobQueueAction create)
    {
        var batch = state.State.Batch ??= new BatchAccountModel();
        var key = JobQueueRef.KeyOf(create.Cluster, create.Queue.Name);
        if (batch.Queues.Any(q => q.Key == key))
        {
            return;
        }
        var cluster = new ClusterSpec { Name = create.Cluster, CapacityProviders = create.Providers, TaskDefinitions = [] };
        var buckets = JobQueueModel.LaunchBucketsOf(cluster, create.Queue).Select(x => x.Bucket).Distinct(StringComparer.Ordinal).ToArray();
        batch.Queues = BatchAccountModel.DrainOrder([.. batch.Queues, new JobQueueRef(create.Cluster, create.Queue.Name, create.Queue.Priority, buckets)]);
        await Queue(key).Init(state.State.Setup!.Account.Id, cluster, create.Queue);
    }

    private async Task<Dictionary<string, StartJobTasksAction>> DrainJobQueues(long nowMs, IReadOnlyList<TimelineAction> inputs, List<SimEvent> events)
    {
        var starts = new Dictionary<string, StartJobTasksAction>(StringComparer.Ordinal);
        var batch = state.State.Batch;
        if (batch is null || batch.Queues.Count == 0)
        {
            return starts;
        }
        var submissions = new Dictionary<string, List<JobSubmission>>(StringComparer.Ordinal);
        foreach (var submit in inputs.OfType<SubmitJobAction>())
        {
            if (await Bucket(BucketNames.SubmitJob).TryAcquire(nowMs, 1, Limit(BucketNames.SubmitJob)) == 0)
            {
                events.Add(new SimEvent
                {
                    TimeMs = nowMs, Kind = EventKinds.Throttle, Account = submit.Account, Cluster = submit.Cluster,
                    Bucket = BucketNames.SubmitJob, Requested = 1, Granted = 0,
                });
                continue;
            }
            if (batch.Submit(nowMs, submit, out var error) is { } accepted)
            {
                var key = JobQueueRef.KeyOf(submit.Cluster, submit.JobQueue);
                (submissions.TryGetValue(key, out var list) ? list : submissions[key] = []).Add(accepted);
            }
            else if (error is not null)
            {
                events.Add(error);
            }
        }
        // CancelJob after the tick's submissions, so a job submitted and cancelled in one tick is cancelled.
        var cancellations = batch.Cancellations(inputs.OfType<CancelJobAction>());
        var due = batch.DueQueues(submissions, cancellations);
        if (due.Count == 0)
        {
            return starts;
        }

        var launchBuckets = due.SelectMany(q => q.LaunchBuckets).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var launch = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var bucket in launchBuckets)
        {
            launch[bucket] = await Bucket(bucket).Available(nowMs, Limit(bucket));
        }
        var initial = new JobAllowance(await Bucket(BucketNames.RunTask).Available(nowMs, Limit(BucketNames.RunTask)), launch);
        var (drained, calls, allowance) = await batch.DrainAsync(nowMs, due, submissions, initial,
            (q, subs, resolutions, left, cancelled) => Queue(q.Key).Drain(nowMs, subs, resolutions, left, cancelled), cancellations);
        events.AddRange(drained);
        // Within what Available reported in this same sequential flow, so always granted in full.
        if (initial.RunTaskCalls - allowance.RunTaskCalls is > 0 and var used)
        {
            await Bucket(BucketNames.RunTask).TryAcquire(nowMs, used, Limit(BucketNames.RunTask));
        }
        foreach (var bucket in launchBuckets)
        {
            if (launch[bucket] - allowance.LaunchTasks[bucket] is > 0 and var tasks)
            {
                await Bucket(bucket).TryAcquire(nowMs, tasks, Limit(bucket));
            }
        }
        var account = state.State.Setup!.Account.Id;
        foreach (var (cluster, list) in calls)
        {
            starts[cluster] = new StartJobTasksAction(account, cluster, list);
        }
        return starts;
    }

    /// <summary>Job tasks that reached RUNNING or STOPPED in this tick's cluster events go back to their queues, in queue key order.</summary>
    private async Task ObserveJobTasks(long nowMs, List<SimEvent> clusterEvents, List<SimEvent> events)
    {
        events.AddRange(await state.State.Batch!.ObserveAsync(clusterEvents, (q, outcomes) => Queue(q.Key).Observe(nowMs, outcomes)));
    }

    /// <summary>Queues with work wait for the next tick (a RunTask token, a settled dependency).</summary>
    private long NextJobQueueStepMs(long nowMs) =>
        state.State.Batch is { HasWork: true } ? nowMs + state.State.Setup!.Run.TickMs : long.MaxValue;

    private IEnumerable<Task> CheckpointJobQueues(long nowMs)
    {
        var calls = _calledQueues.Select(key => QueueGrain(key).Checkpoint(nowMs))
            .Concat(_calledBatchBuckets.Select(b => BucketGrain(b).Checkpoint(nowMs))).ToList();
        _calledQueues.Clear();
        _calledBatchBuckets.Clear();
        return calls;
    }

    private IJobQueueGrain Queue(string key)
    {
        _calledQueues.Add(key);
        return QueueGrain(key);
    }

    private IJobQueueGrain QueueGrain(string key)
    {
        var setup = state.State.Setup!;
        var q = state.State.Batch!.Queues.First(x => x.Key == key);
        return GrainFactory.GetGrain<IJobQueueGrain>(Keys.JobQueue(setup.Run.RunId, setup.Account.Id, q.Cluster, q.Name));
    }

    /// <summary>Buckets this account drew on for its job queues since the last checkpoint (in memory only, as the queues).</summary>
    private readonly HashSet<string> _calledBatchBuckets = new(StringComparer.Ordinal);

    private IRateLimitBucketGrain Bucket(string bucket)
    {
        _calledBatchBuckets.Add(bucket);
        return BucketGrain(bucket);
    }

    private IRateLimitBucketGrain BucketGrain(string bucket) =>
        GrainFactory.GetGrain<IRateLimitBucketGrain>(Keys.Bucket(state.State.Setup!.Run.RunId, state.State.Setup.Account.Id, bucket));

    private BucketLimit Limit(string bucket) => BucketNames.Limit(state.State.Setup!.Account.Limits, bucket);
}
