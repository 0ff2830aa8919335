using Scheduler.Core.Batch;
using Scheduler.Core.Engine;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Batch;

/// <summary>
/// An account's job queues run on the pure models, tick by tick, as the account grain runs them: submissions, a
/// drain round in priority order within the RunTask (and Fargate) buckets, then the job tasks' progress. Tasks
/// are not placed: each runs for a drawn time and exits by itself or fails, so every queue rule can be checked
/// from what it records.
/// </summary>
internal sealed class BatchWorld
{
    public sealed record Job(SubmitJobAction Action, long AtMs);

    /// <summary>A CancelJob at <paramref name="AtMs"/>, applied after that tick's submissions as the account grain applies it.</summary>
    public sealed record Cancel(CancelJobAction Action, long AtMs);

    /// <summary>One drain round of one queue: when, which queue, and what it reported.</summary>
    public sealed record Round(long AtMs, JobQueueRef Queue, JobQueueStep Step, IReadOnlyList<long> RunnableAfter, IReadOnlyList<long> Taken);

    public const string Ec2 = "ec2";
    public const string Fargate = "fargate";

    public AccountSpec Account { get; }
    public BucketLimit RunTaskLimit { get; }
    public BucketLimit FargateLimit { get; }
    public BatchAccountModel Batch { get; }
    public SortedDictionary<string, JobQueueModel> Models { get; } = new(StringComparer.Ordinal);
    public List<SimEvent> Events { get; } = [];
    public List<Round> Rounds { get; } = [];
    /// <summary>RunTask calls made, with their time and task count.</summary>
    public List<(long AtMs, int Tasks, bool Fargate)> Calls { get; } = [];
    public long EndMs { get; private set; }

    private readonly List<Job> _jobs;
    private readonly List<Cancel> _cancels;

    public IReadOnlyList<Cancel> Cancels => _cancels;
    private readonly bool _roundTrip;

    /// <summary>Each job's dependencies, by name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Dependencies => _jobs.ToDictionary(j => j.Action.Name, j => j.Action.DependsOn);

    /// <summary>The queue model, reloaded from its JSON first when the world round-trips its state.</summary>
    private JobQueueModel Model(string key)
    {
        if (_roundTrip)
        {
            Models[key] = System.Text.Json.JsonSerializer.Deserialize<JobQueueModel>(System.Text.Json.JsonSerializer.Serialize(Models[key]))!;
        }
        return Models[key];
    }
    private readonly Func<string, int, (long RunningAfterMs, long StoppedAfterMs, bool Succeeds, bool Runs)> _outcome;
    private readonly SortedDictionary<long, List<SimEvent>> _taskEvents = [];
    private TokenBucket _runTask;
    private TokenBucket _fargate;
    private int _nextTask = 1;
    private readonly Dictionary<string, int> _taskAttempts = new(StringComparer.Ordinal);

    public BatchWorld(IReadOnlyList<JobQueueSpec> queues, bool fargate, BucketLimit runTaskLimit, BucketLimit fargateLimit, IReadOnlyList<Job> jobs,
        Func<string, int, (long, long, bool, bool)> outcome, bool roundTrip = false, IReadOnlyList<Cancel>? cancels = null)
    {
        _cancels = [.. (cancels ?? []).OrderBy(c => c.AtMs)];
        _roundTrip = roundTrip;
        var cluster = new ClusterSpec
        {
            Name = "c",
            CapacityProviders =
            [
                new CapacityProviderSpec { Name = Ec2, Type = CapacityType.Ec2 },
                new CapacityProviderSpec { Name = Fargate, Type = CapacityType.Fargate },
            ],
            TaskDefinitions = [],
            JobQueues = [.. queues.Select(q => q with { CapacityProviderStrategy = [new CapacityProviderStrategyItem(fargate ? Fargate : Ec2, 1, 0)] })],
        };
        Account = new AccountSpec { Id = "acct", Clusters = [cluster] };
        RunTaskLimit = runTaskLimit;
        FargateLimit = fargateLimit;
        _runTask = TokenBucket.Full(runTaskLimit, 0);
        _fargate = TokenBucket.Full(fargateLimit, 0);
        Batch = BatchAccountModel.For(Account);
        foreach (var q in cluster.JobQueues)
        {
            Models[JobQueueRef.KeyOf("c", q.Name)] = JobQueueModel.Create("acct", cluster, q);
        }
        _jobs = [.. jobs.OrderBy(j => j.AtMs)];
        _outcome = outcome;
    }

    /// <summary>Runs tick by tick (1 s) until every job is final or <paramref name="limitMs"/>.</summary>
    public async Task RunAsync(long limitMs = 3_600_000)
    {
        var next = 0;
        var nextCancel = 0;
        for (long t = 0; t <= limitMs; t += 1000)
        {
            var submissions = new Dictionary<string, List<JobSubmission>>(StringComparer.Ordinal);
            for (; next < _jobs.Count && _jobs[next].AtMs <= t; next++)
            {
                var a = _jobs[next].Action;
                if (Batch.Submit(t, a, out var error) is { } s)
                {
                    var key = JobQueueRef.KeyOf(a.Cluster, a.JobQueue);
                    (submissions.TryGetValue(key, out var l) ? l : submissions[key] = []).Add(s);
                }
                else
                {
                    Events.Add(error!);
                }
            }
            var cancelsNow = new List<CancelJobAction>();
            for (; nextCancel < _cancels.Count && _cancels[nextCancel].AtMs <= t; nextCancel++)
            {
                cancelsNow.Add(_cancels[nextCancel].Action);
            }
            var cancellations = Batch.Cancellations(cancelsNow);
            var due = Batch.DueQueues(submissions, cancellations);
            if (due.Count > 0)
            {
                var launch = new Dictionary<string, int>(StringComparer.Ordinal) { [BucketNames.FargateOnDemand] = _fargate.Available(t, FargateLimit) };
                var initial = new JobAllowance(_runTask.Available(t, RunTaskLimit), launch);
                var (events, calls, left) = await Batch.DrainAsync(t, due, submissions, initial, (q, subs, res, allowance, cancelled) =>
                {
                    var model = Model(q.Key);
                    var step = model.Drain(t, subs, res, allowance, cancelled);
                    var taken = step.Events.Where(e => e.State == JobStates.Starting && e.ArraySize is null).Select(e => model.KeyOf(e.Job!)).ToList();
                    Rounds.Add(new Round(t, q, step, [.. model.Runnable], taken));
                    return Task.FromResult(step);
                }, cancellations);
                Events.AddRange(events);
                var usedCalls = initial.RunTaskCalls - left.RunTaskCalls;
                (_runTask, var granted) = _runTask.Take(t, usedCalls, RunTaskLimit);
                Assert.Equal(usedCalls, granted);
                var usedFargate = launch[BucketNames.FargateOnDemand] - left.LaunchTasks[BucketNames.FargateOnDemand];
                (_fargate, var fargateGranted) = _fargate.Take(t, usedFargate, FargateLimit);
                Assert.Equal(usedFargate, fargateGranted);
                foreach (var call in calls.Values.SelectMany(c => c))
                {
                    Calls.Add((t, call.Tasks.Count, call.Tasks.Any(x => x.CapacityProvider == Fargate)));
                    foreach (var task in call.Tasks)
                    {
                        Start(t, task);
                    }
                }
            }
            if (_taskEvents.Remove(t, out var now))
            {
                Events.AddRange(now);
                Events.AddRange(await Batch.ObserveAsync(now, (q, outcomes) => Task.FromResult(Model(q.Key).Observe(t, outcomes))));
            }
            if (next == _jobs.Count && nextCancel == _cancels.Count && _taskEvents.Count == 0 && !Batch.HasWork)
            {
                EndMs = t;
                return;
            }
        }
        EndMs = limitMs;
    }

    private void Start(long t, JobTask task)
    {
        var id = $"run-{_nextTask++:D5}";
        var attempt = _taskAttempts[task.StartedBy] = _taskAttempts.GetValueOrDefault(task.StartedBy) + 1;
        var (runningAfter, stoppedAfter, succeeds, runs) = _outcome(task.StartedBy, attempt);
        SimEvent Task(long at, string state, string? reason) => new()
        {
            TimeMs = at, Kind = EventKinds.Task, Account = "acct", Cluster = "c", Task = id, State = state, StartedBy = task.StartedBy,
            CapacityProvider = task.CapacityProvider, Reason = reason,
        };
        var runningAt = t + Math.Max(1000, runningAfter / 1000 * 1000);
        if (runs)
        {
            Add(Task(runningAt, TaskStates.Running, null));
        }
        var stoppedAt = runningAt + Math.Max(runs ? 1000 : 0, stoppedAfter / 1000 * 1000);
        Add(Task(stoppedAt, TaskStates.Stopped, succeeds && runs ? StopReasons.EssentialExited : runs ? StopReasons.Crashed : StopReasons.CannotStart));
    }

    private void Add(SimEvent e) => (_taskEvents.TryGetValue(e.TimeMs, out var l) ? l : _taskEvents[e.TimeMs] = []).Add(e);
}
