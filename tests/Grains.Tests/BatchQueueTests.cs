using Scheduler.Core.Batch;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Grains.Tests;

/// <summary>Job queues through the real grains: the bundled two-queue scenario and the 10,000-job drain, checked from the event log.</summary>
public sealed class BatchQueueTests
{
    private static List<SimEvent> Jobs(List<SimEvent> events) => [.. events.Where(e => e.Kind == EventKinds.Job)];

    [Fact]
    public async Task Two_queues_with_arrays_dependencies_and_retries_end_every_job_once_within_the_buckets()
    {
        var scenario = TestScenarios.Load("scenarios/batch-queues.yaml");
        await using var cluster = await TestClusters.StartAsync(1);
        var (_, _, events) = await TestClusters.RunAsync(cluster.Client, scenario, "batch-queues");
        var jobs = Jobs(events);

        // Every job (and every child) submitted ends SUCCEEDED or FAILED exactly once, as its last event.
        foreach (var job in jobs.GroupBy(e => e.Job!))
        {
            var states = job.Select(e => e.State!).ToList();
            Assert.Equal(JobStates.Submitted, states[0]);
            Assert.Single(states, s => s is JobStates.Succeeded or JobStates.Failed);
            Assert.True(states[^1] is JobStates.Succeeded or JobStates.Failed, $"{job.Key} ended {states[^1]}");
        }
        // 120 + 60 + 1 + 30 + 1 + 5 children and jobs, 4 array parents; the throttled SubmitJob and the job that
        // named it never exist.
        Assert.Equal(120 + 60 + 1 + 30 + 1 + 5 + 4, jobs.Select(e => e.Job).Distinct().Count());
        Assert.Single(events, e => e is { Kind: EventKinds.Throttle, Bucket: "submitJob" });
        Assert.Single(events, e => e is { Kind: EventKinds.ApiError, Api: "SubmitJob", Error: "ClientException" });

        // Job tasks never exceed the RunTask bucket: 10 tasks per call, 3 calls of burst, 2 calls per second.
        var created = events.Where(e => e is { Kind: EventKinds.Task, State: TaskStates.Provisioning } && JobTaskIds.TryParse(e.StartedBy, out _, out _)).ToList();
        Assert.Equal(jobs.Count(e => e is { State: JobStates.Starting, ArraySize: null }), created.Count);
        for (var i = 0; i < created.Count; i++)
        {
            Assert.True(i + 1 <= 10 * (3 + 2 * created[i].TimeMs / 1000.0), $"{i + 1} job tasks by {created[i].TimeMs} ms");
        }

        // The urgent queue (priority 10) starts all its first attempts before the bulk queue starts any.
        static long[] FirstStarts(List<SimEvent> jobs, string queue) =>
            [.. jobs.Where(e => e.Queue == queue && e is { State: JobStates.Starting, ArraySize: null, Attempt: 1 } && e.Job != "report" && e.Job != "broken").Select(e => e.TimeMs)];
        Assert.True(FirstStarts(jobs, "urgent").Max() <= FirstStarts(jobs, "bulk").Min());

        // A job that depends on an array job starts after the whole array succeeded.
        var calibrated = jobs.Single(e => e is { Job: "calibrate", State: JobStates.Succeeded }).TimeMs;
        Assert.True(jobs.Single(e => e is { Job: "report", State: JobStates.Starting }).TimeMs > calibrated);
        Assert.True(jobs.Where(e => e.Job!.StartsWith("calibrate:", StringComparison.Ordinal) && e.State == JobStates.Succeeded).All(e => e.TimeMs <= calibrated));

        // Retries: flaky children that failed to start were tried again and all succeeded within their attempts.
        Assert.Contains(jobs, e => e.Job!.StartsWith("flaky:", StringComparison.Ordinal) && e.Attempt > 1);
        Assert.Equal(JobStates.Succeeded, jobs.Last(e => e.Job == "flaky").State);
        // The broken job fails after its 2 attempts, and its dependents fail without running.
        Assert.Equal(2, jobs.Last(e => e.Job == "broken").Attempt);
        Assert.All(jobs.Where(e => e.Job!.StartsWith("after-broken", StringComparison.Ordinal)).GroupBy(e => e.Job),
            g => Assert.Equal([JobStates.Submitted, JobStates.Pending, JobStates.Failed], g.Select(e => e.State)));
    }

    [Fact]
    public async Task The_queue_sustains_the_RunTask_ceiling_after_the_burst()
    {
        // The bundled batch-10k scenario with a smaller array: 1,000 tasks at once (100 calls of burst), then 400 per second.
        var scenario = TestScenarios.Load("scenarios/batch-10k.yaml");
        var submit = (SubmitJobAction)scenario.Timeline[0].Action;
        scenario = scenario with { Timeline = [scenario.Timeline[0] with { Action = submit with { ArraySize = 2_200 } }] };
        await using var cluster = await TestClusters.StartAsync(1);
        var (_, _, events) = await TestClusters.RunAsync(cluster.Client, scenario, "batch-2k");
        var perSecond = Jobs(events).Where(e => e is { State: JobStates.Starting, ArraySize: null }).GroupBy(e => e.TimeMs / 1000).Select(g => (g.Key, g.Count())).ToList();
        Assert.Equal([(0L, 1000), (1L, 400), (2L, 400), (3L, 400)], perSecond);
        Assert.Equal(2_201, Jobs(events).Count(e => e.State == JobStates.Succeeded));
    }

    [Fact]
    public async Task A_queue_created_during_the_run_drains_in_priority_order_from_its_tick_on()
    {
        var scenario = TestScenarios.Parse("""
            name: created-queue
            seed: 4
            until: settled
            accounts:
              - id: lab
                limits: { runTask: { burst: 1, perSecond: 1 } }
                clusters:
                  - name: hpc
                    capacityProviders: [ { name: ec2, type: EC2, instanceTypes: [m5.4xlarge], initialInstances: 2 } ]
                    taskDefinitions:
                      - { family: sim, cpu: 256, memory: 512, runTime: 20s, containers: [ { name: s, image: s, memory: 512 } ] }
                    jobQueues: [ { name: bulk, priority: 1 } ]
            timeline:
              - { at: 0s, submitJob: { account: lab, cluster: hpc, jobQueue: bulk, taskDefinition: sim, arraySize: 100, name: sweep } }
              - { at: 3s, createJobQueue: { account: lab, cluster: hpc, name: rush, priority: 10 } }
              - { at: 3s, submitJob: { account: lab, cluster: hpc, jobQueue: rush, taskDefinition: sim, arraySize: 20, name: urgent } }
            """);
        await using var cluster = await TestClusters.StartAsync(1);
        var (_, _, events) = await TestClusters.RunAsync(cluster.Client, scenario, "created-queue");
        var jobs = Jobs(events);
        Assert.Equal(JobStates.Succeeded, jobs.Last(e => e.Job == "urgent").State);
        Assert.Equal(JobStates.Succeeded, jobs.Last(e => e.Job == "sweep").State);
        Assert.All(jobs.Where(e => e.Queue == "rush"), e => Assert.True(e.TimeMs >= 3000, $"{e.Job} {e.State} at {e.TimeMs} ms"));
        // One RunTask call per second: from 3 s on the higher-priority queue takes every call until its 20 children started.
        var starts = jobs.Where(e => e is { State: JobStates.Starting, ArraySize: null }).ToList();
        var lastUrgent = starts.Where(e => e.Queue == "rush").Max(e => e.TimeMs);
        Assert.DoesNotContain(starts, e => e.Queue == "bulk" && e.TimeMs >= 3000 && e.TimeMs <= lastUrgent);
        Assert.Contains(starts, e => e.Queue == "bulk" && e.TimeMs > lastUrgent);
    }

    [Fact]
    public async Task A_cancelled_job_fails_what_had_not_started_and_its_dependents_fail_without_running()
    {
        var scenario = TestScenarios.Parse("""
            name: cancel
            seed: 3
            until: settled
            accounts:
              - id: lab
                clusters:
                  - name: hpc
                    capacityProviders:
                      - { name: ec2, type: EC2, instanceTypes: [m6i.2xlarge], initialInstances: 1, maxInstances: 1 }
                    taskDefinitions:
                      - { family: sim, cpu: 512, memory: 1024, networkMode: bridge, runTime: 5m,
                          containers: [ { name: sim, image: lab/sim:2, cpu: 512, memory: 1024 } ] }
                    jobQueues: [ { name: q, capacityProvider: ec2, maxRunning: 2 } ]
            timeline:
              - { at: 0s, submitJob: { account: lab, cluster: hpc, jobQueue: q, taskDefinition: sim, arraySize: 6, name: frames } }
              - { at: 1s, submitJob: { account: lab, cluster: hpc, jobQueue: q, taskDefinition: sim, dependsOn: [frames], name: report } }
              - { at: 2m, cancelJob: { account: lab, job: frames, reason: "no longer needed" } }
              - { at: 2m, submitJob: { account: lab, cluster: hpc, jobQueue: q, taskDefinition: sim, name: late } }
              - { at: 2m, cancelJob: { account: lab, job: late, reason: "changed my mind" } }
            """);
        await using var cluster = await TestClusters.StartAsync(1);
        var (_, _, events) = await TestClusters.RunAsync(cluster.Client, scenario, "cancel");
        var jobs = Jobs(events);
        string[] Of(string job) => [.. jobs.Where(e => e.Job == job).Select(e => e.State!)];

        // Two children were running (maxRunning 2) and finish; the four still RUNNABLE fail with the reason.
        var started = jobs.Where(e => e is { State: JobStates.Starting, ArraySize: null } && e.Job!.StartsWith("frames:", StringComparison.Ordinal)).Select(e => e.Job).ToList();
        Assert.Equal(["frames:0", "frames:1"], started);
        Assert.All(started, c => Assert.Equal(JobStates.Succeeded, Of(c!)[^1]));
        for (var i = 2; i < 6; i++)
        {
            Assert.Equal([JobStates.Submitted, JobStates.Pending, JobStates.Runnable, JobStates.Failed], Of($"frames:{i}"));
            Assert.Equal("no longer needed", jobs.Last(e => e.Job == $"frames:{i}").Reason);
        }
        Assert.Equal(JobStates.Failed, Of("frames")[^1]);
        Assert.Equal([JobStates.Submitted, JobStates.Pending, JobStates.Failed], Of("report"));
        Assert.StartsWith(JobReasons.DependencyFailed, jobs.Last(e => e.Job == "report").Reason);
        // Submitted and cancelled in one tick: cancelled before it could start.
        Assert.Equal([JobStates.Submitted, JobStates.Pending, JobStates.Runnable, JobStates.Failed], Of("late"));
    }
}
