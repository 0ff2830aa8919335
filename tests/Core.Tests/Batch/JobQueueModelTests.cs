using Scheduler.Core.Batch;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Batch;

public sealed class JobQueueModelTests
{
    private static readonly ClusterSpec Cluster = new()
    {
        Name = "c",
        CapacityProviders = [new CapacityProviderSpec { Name = "ec2", Type = CapacityType.Ec2 }],
        TaskDefinitions = [],
    };

    private static JobQueueModel Queue(int maxRunning = 0) => JobQueueModel.Create("acct", Cluster, new JobQueueSpec
    {
        Name = "q", MaxRunning = maxRunning, CapacityProviderStrategy = [new CapacityProviderStrategyItem("ec2", 1, 0)],
    });

    private static JobSubmission Ready(string name, int? arraySize = null, int attempts = 1) =>
        new(new SubmitJobAction("acct", "c", "q", "work", arraySize, [], name, attempts), JobReadiness.Ready);

    private static JobAllowance Calls(int n) => new(n, new Dictionary<string, int>());

    private static string[] States(JobQueueStep step, string job) =>
        [.. step.Events.Where(e => e.Job == job).Select(e => e.State!)];

    [Fact]
    public void An_array_job_drains_in_calls_of_ten_as_far_as_the_calls_allow_then_waits()
    {
        var q = Queue();
        var step = q.Drain(0, [Ready("a", arraySize: 25)], [], Calls(2));
        Assert.Equal([10, 10], step.Calls.Select(c => c.Tasks.Count));
        Assert.Equal("batch/q/a:0", step.Calls[0].Tasks[0].StartedBy);
        Assert.Equal(0, step.Left.RunTaskCalls);
        Assert.True(step.CanDrainMore);
        Assert.Equal([JobStates.Submitted, JobStates.Pending, JobStates.Runnable, JobStates.Starting], States(step, "a"));
        Assert.Equal([JobStates.Submitted, JobStates.Pending, JobStates.Runnable, JobStates.Starting], States(step, "a:19"));
        Assert.Equal([JobStates.Submitted, JobStates.Pending, JobStates.Runnable], States(step, "a:20"));

        var next = q.Drain(1000, [], [], Calls(5));
        Assert.Equal([5], next.Calls.Select(c => c.Tasks.Count));
        Assert.Equal("batch/q/a:24", next.Calls[0].Tasks[^1].StartedBy);
        Assert.Equal(4, next.Left.RunTaskCalls);
        Assert.False(next.CanDrainMore);
    }

    [Fact]
    public void Consecutive_single_jobs_of_one_task_definition_share_a_call_and_maxRunning_holds_the_rest()
    {
        var q = Queue(maxRunning: 3);
        var step = q.Drain(0, [Ready("a"), Ready("b"), Ready("c"), Ready("d")], [], Calls(10));
        var call = Assert.Single(step.Calls);
        Assert.Equal(["batch/q/a", "batch/q/b", "batch/q/c"], call.Tasks.Select(t => t.StartedBy));
        // Bound by maxRunning, not by the allowance: no reason to look again before a job ends.
        Assert.False(step.CanDrainMore);
        var ended = q.Observe(5000, [new JobTaskOutcome("a", "run-1", Stopped: false, false, null), new JobTaskOutcome("a", "run-1", Stopped: true, true, StopReasons.EssentialExited)]);
        Assert.Equal([JobStates.Running, JobStates.Succeeded], States(ended, "a"));
        Assert.Equal([new JobFinished("a", true)], ended.Finished);
        Assert.True(ended.CanDrainMore);
        Assert.Equal(["batch/q/d"], q.Drain(6000, [], [], Calls(10)).Calls.Single().Tasks.Select(t => t.StartedBy));
    }

    [Fact]
    public void A_failed_attempt_is_retried_in_its_place_until_the_attempts_run_out()
    {
        var q = Queue();
        q.Drain(0, [Ready("a", attempts: 2), Ready("b")], [], Calls(10));
        var first = q.Observe(1000, [new JobTaskOutcome("a", "run-1", true, false, StopReasons.Crashed)]);
        Assert.Equal([JobStates.Runnable], States(first, "a"));
        Assert.Contains("Attempt 1 failed", first.Events.Single().Reason);
        Assert.Empty(first.Finished);
        var retry = q.Drain(2000, [], [], Calls(10)).Calls.Single();
        Assert.Equal(["batch/q/a"], retry.Tasks.Select(t => t.StartedBy));
        var second = q.Observe(3000, [new JobTaskOutcome("a", "run-2", true, false, StopReasons.CannotStart)]);
        Assert.Equal([JobStates.Failed], States(second, "a"));
        Assert.Equal(2, second.Events.Single().Attempt);
        Assert.Equal([new JobFinished("a", false)], second.Finished);
    }

    [Fact]
    public void An_array_job_succeeds_when_every_child_did_and_fails_when_one_failed()
    {
        var q = Queue();
        q.Drain(0, [Ready("ok", arraySize: 2), Ready("bad", arraySize: 2)], [], Calls(10));
        JobTaskOutcome Run(string unit) => new(unit, "t", false, false, null);
        JobTaskOutcome Exit(string unit, bool ok) => new(unit, "t", true, ok, ok ? StopReasons.EssentialExited : StopReasons.Crashed);
        var step = q.Observe(1000, [Run("ok:0"), Run("ok:1"), Exit("ok:0", true), Run("bad:0"), Exit("bad:0", false)]);
        Assert.Equal([JobStates.Running], States(step, "ok"));
        Assert.Empty(step.Finished);
        step = q.Observe(2000, [Exit("ok:1", true), Run("bad:1"), Exit("bad:1", true)]);
        Assert.Equal([JobStates.Succeeded], States(step, "ok"));
        Assert.Equal([JobStates.Failed], States(step, "bad"));
        Assert.Equal("1 of 2 child jobs failed", step.Events.Single(e => e.Job == "bad").Reason);
        Assert.Equal([new JobFinished("ok", true), new JobFinished("bad", false)], step.Finished);
    }

    [Fact]
    public void A_job_depending_on_an_array_job_waits_for_every_child_and_a_failure_fails_its_dependents_in_turn()
    {
        var graph = new JobDependencyGraph();
        Assert.Equal(JobReadiness.Ready, graph.Register("array", "c/q", []).Readiness);
        Assert.Equal(JobReadiness.Waiting, graph.Register("after", "c/other", ["array"]).Readiness);
        Assert.Equal(JobReadiness.Waiting, graph.Register("last", "c/q", ["after", "array"]).Readiness);
        Assert.Equal(JobReadiness.Rejected, graph.Register("stray", "c/q", ["never"]).Readiness);
        // The queue reports an array job finished only when all its children are (previous test); success releases.
        Assert.Equal([("c/other", new JobResolution("after", true))], graph.Finish("array", true));
        var failed = graph.Finish("after", false);
        Assert.Equal([("c/q", new JobResolution("last", false, "Dependent Job failed (after)"))], failed);
        Assert.Equal((JobReadiness.Failed, "Dependent Job failed (last)"), graph.Register("later", "c/q", ["last"]));
    }

    [Fact]
    public void Queues_drain_higher_priority_first_then_by_cluster_and_name()
    {
        var order = BatchAccountModel.DrainOrder([new("b", "low", 1, []), new("a", "high", 5, []), new("a", "low", 1, []), new("a", "mid", 3, [])]);
        Assert.Equal(["a/high", "a/mid", "a/low", "b/low"], order.Select(q => q.Key));
    }
}
