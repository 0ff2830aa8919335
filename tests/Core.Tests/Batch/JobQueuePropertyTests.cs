using CsCheck;
using Scheduler.Core.Batch;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Batch;

/// <summary>
/// Random accounts of job queues (priorities, maxRunning, EC2 or Fargate), random jobs (single and array, dependencies
/// on earlier jobs, retries) and random task outcomes, run on the pure models as the account grain runs them.
/// </summary>
public sealed class JobQueuePropertyTests
{
    private static readonly Gen<Func<bool, BatchWorld>> Factories = Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[1, 3], Gen.Bool, Gen.Int[1, 14]).Select(
        (seed, queueCount, fargate, jobCount) =>
        {
            var rng = new Random(seed);
            var queues = Enumerable.Range(0, queueCount).Select(i => new JobQueueSpec
            {
                Name = $"q{i}",
                Priority = rng.Next(0, 3),
                MaxRunning = rng.Next(3) == 0 ? 0 : rng.Next(1, 16),
                CapacityProviderStrategy = [],
            }).ToList();
            var jobs = new List<BatchWorld.Job>();
            for (var j = 0; j < jobCount; j++)
            {
                var at = jobs.Count == 0 ? rng.Next(0, 5) * 1000L : jobs[^1].AtMs + rng.Next(0, 4) * 1000L;
                var deps = jobs.Where(_ => rng.Next(4) == 0).Select(p => p.Action.Name).ToArray();
                int? size = rng.Next(3) == 0 ? null : rng.Next(1, 40);
                jobs.Add(new BatchWorld.Job(new SubmitJobAction("acct", "c", $"q{rng.Next(queueCount)}", "work", size, deps, $"j{j}", rng.Next(1, 4)), at));
            }
            // A few CancelJob calls: whole jobs or one child, at or after the submission.
            var cancels = new List<BatchWorld.Cancel>();
            foreach (var job in jobs.Where(_ => rng.Next(4) == 0))
            {
                var id = job.Action.ArraySize is { } n && rng.Next(2) == 0 ? $"{job.Action.Name}:{rng.Next(n)}" : job.Action.Name;
                cancels.Add(new BatchWorld.Cancel(new CancelJobAction("acct", id, $"cancel-{cancels.Count}"), job.AtMs + rng.Next(0, 6) * 1000L));
            }
            var failureRate = rng.NextDouble() * 0.4;
            var runTask = new BucketLimit(rng.Next(1, 12), 0.5 + rng.NextDouble() * 4);
            var fargateLimit = new BucketLimit(rng.Next(1, 60), 0.5 + rng.NextDouble() * 10);
            return (Func<bool, BatchWorld>)(roundTrip => new BatchWorld(queues, fargate, runTask, fargateLimit, jobs, (unit, attempt) =>
            {
                // Outcomes keyed by (job id, attempt), so they do not depend on the order the queues started them.
                var r = new Random(HashCode.Combine(seed, unit.GetHashCode(StringComparison.Ordinal), attempt));
                return (r.Next(1, 4) * 1000L, r.Next(1, 12) * 1000L, r.NextDouble() >= failureRate, r.Next(10) != 0);
            }, roundTrip, cancels));
        });

    private static readonly Gen<BatchWorld> Worlds = Factories.Select(f => f(false));

    private static BatchWorld Run(BatchWorld world)
    {
        world.RunAsync(limitMs: 86_400_000).GetAwaiter().GetResult();
        Assert.True(world.EndMs < 86_400_000, "the jobs should all be done within a simulated day");
        return world;
    }

    [Fact]
    public void Every_job_ends_succeeded_or_failed_exactly_once_through_allowed_transitions()
    {
        Worlds.Sample(w =>
        {
            Run(w);
            foreach (var job in w.Events.Where(e => e.Kind == EventKinds.Job).GroupBy(e => e.Job!))
            {
                var states = job.Select(e => Enum.Parse<JobState>(e.State!, ignoreCase: true)).ToList();
                Assert.Equal(JobState.Submitted, states[0]);
                for (var i = 1; i < states.Count; i++)
                {
                    Assert.True(JobStates.IsAllowed(states[i - 1], states[i]), $"{job.Key}: {states[i - 1]} -> {states[i]}");
                }
                Assert.Single(states, JobStates.IsFinal);
                Assert.True(JobStates.IsFinal(states[^1]), $"{job.Key} ended {states[^1]}");
            }
            // Every job and every child of an array job is in the log.
            var expected = w.Events.Count(e => e.Kind == EventKinds.Job && e.State == JobStates.Submitted);
            Assert.Equal(expected, w.Events.Count(e => e.Kind == EventKinds.Job && JobStates.IsFinal(Enum.Parse<JobState>(e.State!, true))));
        }, iter: 150);
    }

    [Fact]
    public void Task_creations_never_exceed_the_RunTask_or_Fargate_bucket()
    {
        Worlds.Sample(w =>
        {
            Run(w);
            long calls = 0, fargateTasks = 0;
            foreach (var (at, tasks, fargate) in w.Calls)
            {
                Assert.InRange(tasks, 1, 10);
                calls++;
                fargateTasks += fargate ? tasks : 0;
                Assert.True(calls <= w.RunTaskLimit.Burst + w.RunTaskLimit.PerSecond * at / 1000.0 + 1e-6, $"{calls} calls by {at} ms with {w.RunTaskLimit}");
                Assert.True(fargateTasks <= w.FargateLimit.Burst + w.FargateLimit.PerSecond * at / 1000.0 + 1e-6, $"{fargateTasks} Fargate tasks by {at} ms");
            }
            // And the job tasks are exactly those calls' tasks.
            Assert.Equal(w.Calls.Sum(c => c.Tasks), w.Events.Count(e => e.Kind == EventKinds.Job && e.State == JobStates.Starting && e.ArraySize is null));
        }, iter: 150);
    }

    [Fact]
    public void A_queue_never_runs_more_than_maxRunning()
    {
        Worlds.Sample(w =>
        {
            Run(w);
            var max = w.Account.Clusters[0].JobQueues.ToDictionary(q => q.Name, q => q.MaxRunning);
            var live = new Dictionary<string, int>();
            var liveUnits = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in w.Events.Where(e => e.Kind == EventKinds.Job && e.ArraySize is null))
            {
                var q = e.Queue!;
                if (e.State == JobStates.Starting)
                {
                    liveUnits.Add(e.Job!);
                    live[q] = live.GetValueOrDefault(q) + 1;
                    Assert.True(max[q] == 0 || live[q] <= max[q], $"queue {q}: {live[q]} live, maxRunning {max[q]}");
                }
                else if (e.State != JobStates.Running && liveUnits.Remove(e.Job!))
                {
                    live[q]--;
                }
            }
        }, iter: 150);
    }

    /// <summary>
    /// Priorities: a queue that still had RUNNABLE jobs it could start after its drain leaves nothing for the lower-priority
    /// queues after it in that round (they share its buckets). FIFO: what a queue started is older than all it left RUNNABLE.
    /// </summary>
    [Fact]
    public void Higher_priority_queues_drain_first_and_each_queue_is_first_in_first_out()
    {
        Worlds.Sample(w =>
        {
            Run(w);
            foreach (var round in w.Rounds.GroupBy(r => r.AtMs))
            {
                var list = round.ToList();
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i].Taken.Count > 0 && list[i].RunnableAfter.Count > 0 && list[i].Step.CanDrainMore)
                    {
                        Assert.True(list[i].Taken.Max() < list[i].RunnableAfter.Min(), $"{list[i].Queue.Key} at {round.Key} ms jumped its order");
                    }
                    if (!list[i].Step.CanDrainMore)
                    {
                        continue;
                    }
                    foreach (var lower in list.Skip(i + 1).Where(l => l.Queue.Priority < list[i].Queue.Priority))
                    {
                        Assert.True(lower.Taken.Count == 0,
                            $"at {round.Key} ms {lower.Queue.Key} (priority {lower.Queue.Priority}) started {lower.Taken.Count} while {list[i].Queue.Key} (priority {list[i].Queue.Priority}) waited");
                    }
                }
            }
            // Order within a round is the drain order.
            foreach (var round in w.Rounds.GroupBy(r => r.AtMs))
            {
                var priorities = round.Select(r => r.Queue.Priority).ToList();
                Assert.Equal(priorities.OrderDescending(), priorities);
            }
        }, iter: 150);
    }

    [Fact]
    public void A_job_starts_only_after_all_its_dependencies_succeeded_and_fails_when_one_failed()
    {
        Worlds.Sample(w =>
        {
            Run(w);
            var final = new Dictionary<string, (int Index, string State)>();
            for (var i = 0; i < w.Events.Count; i++)
            {
                var e = w.Events[i];
                if (e.Kind == EventKinds.Job && e.ArrayIndex is null && JobStates.IsFinal(Enum.Parse<JobState>(e.State!, true)))
                {
                    final[e.Job!] = (i, e.State!);
                }
            }
            foreach (var (name, dependsOn) in w.Dependencies)
            {
                var starts = w.Events.Select((e, i) => (e, i)).Where(x => x.e.Kind == EventKinds.Job && x.e.State == JobStates.Starting
                    && JobTaskIds.Split(x.e.Job!).Job == name).Select(x => x.i).ToList();
                if (dependsOn.Any(d => final[d].State == JobStates.Failed))
                {
                    Assert.Empty(starts);
                    Assert.Equal(JobStates.Failed, final[name].State);
                }
                foreach (var start in starts)
                {
                    foreach (var d in dependsOn)
                    {
                        Assert.True(final[d].State == JobStates.Succeeded && final[d].Index < start, $"{name} started before {d} succeeded");
                    }
                }
            }
        }, iter: 150);
    }

    /// <summary>
    /// CancelJob: every unit of the named job (or the named child) that had not started by the cancel's tick fails
    /// then with the cancel's reason and never starts; units already STARTING or RUNNING go on; nothing else carries
    /// the reason.
    /// </summary>
    [Fact]
    public void A_cancel_fails_what_had_not_started_and_leaves_what_runs()
    {
        Worlds.Sample(w =>
        {
            Run(w);
            var units = w.Events.Where(e => e.Kind == EventKinds.Job && e.ArraySize is null).GroupBy(e => e.Job!)
                .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
            foreach (var (c, at) in w.Cancels)
            {
                var named = units.Keys.Where(u => u == c.Job || JobTaskIds.Split(u).Job == c.Job).ToList();
                foreach (var unit in named)
                {
                    var events = units[unit];
                    var before = events.LastOrDefault(e => e.TimeMs < at)?.State;
                    var cancelled = events.Where(e => e.Reason == c.Reason).ToList();
                    if (before is null or JobStates.Submitted or JobStates.Pending or JobStates.Runnable)
                    {
                        // Unless a dependency failure settled it in the same tick, just before the cancel.
                        var final = events.First(e => JobStates.IsFinal(Enum.Parse<JobState>(e.State!, true)));
                        Assert.True(final.TimeMs == at && final.State == JobStates.Failed, $"{unit} should have been cancelled at {at} ms: {final.State} at {final.TimeMs}");
                        Assert.DoesNotContain(events, e => e.TimeMs >= at && e.State == JobStates.Starting);
                    }
                    else
                    {
                        Assert.Empty(cancelled);
                    }
                }
                Assert.All(w.Events.Where(e => e.Reason == c.Reason && e.ArraySize is null),
                    e => Assert.True(e.State == JobStates.Failed && e.TimeMs == at && named.Contains(e.Job!), $"{e.Job} {e.State} at {e.TimeMs} carries {c.Reason}"));
            }
        }, iter: 150);
    }

    [Fact]
    public void Queues_reloaded_from_JSON_before_every_step_give_the_same_log()
    {
        // Grain state is persisted as JSON at checkpoints and reloaded after a silo restart: a queue must continue
        // exactly as if it had stayed in memory.
        Factories.Sample(make =>
        {
            var plain = Run(make(false));
            var reloaded = Run(make(true));
            Assert.Equal(plain.Events.Select(EventJson.ToJson), reloaded.Events.Select(EventJson.ToJson));
        }, iter: 40);
    }
}
