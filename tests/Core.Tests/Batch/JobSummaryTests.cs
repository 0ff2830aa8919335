using Scheduler.Core.Batch;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;

namespace Scheduler.Core.Tests.Batch;

public sealed class JobSummaryTests
{
    private static SimEvent Job(long ms, string job, string state, int? index = null, int? size = null) => new()
    {
        TimeMs = ms, Kind = EventKinds.Job, Account = "a", Cluster = "c", Job = job, Queue = "q", State = state, ArrayIndex = index, ArraySize = size,
    };

    [Fact]
    public void Queue_wait_and_drain_come_from_runnable_and_starting_events_of_jobs_and_children()
    {
        var summary = new SummaryBuilder(InstanceTypeCatalog.Default);
        var events = new List<SimEvent>
        {
            Job(0, "arr", JobStates.Runnable, size: 3), Job(0, "arr:0", JobStates.Runnable, 0), Job(0, "arr:1", JobStates.Runnable, 1), Job(0, "arr:2", JobStates.Runnable, 2),
            Job(0, "single", JobStates.Runnable),
            Job(0, "arr", JobStates.Starting, size: 3), Job(0, "arr:0", JobStates.Starting, 0), Job(0, "arr:1", JobStates.Starting, 1),
            Job(2000, "arr:2", JobStates.Starting, 2),
            // A retried try waits again from its new RUNNABLE.
            Job(5000, "arr:0", JobStates.Runnable, 0), Job(9000, "arr:0", JobStates.Starting, 0), Job(9000, "single", JobStates.Starting),
            Job(20_000, "arr:0", JobStates.Succeeded, 0), Job(20_000, "arr:1", JobStates.Succeeded, 1), Job(20_000, "arr:2", JobStates.Failed, 2),
            Job(20_000, "arr", JobStates.Failed, size: 3), Job(21_000, "single", JobStates.Running),
        };
        foreach (var e in events)
        {
            summary.Observe(e);
        }
        var s = summary.Build("t", 1, 30_000, 1, 30);
        Assert.Equal(new SortedDictionary<string, int> { [JobStates.Failed] = 2, [JobStates.Running] = 1, [JobStates.Succeeded] = 2 }, s.JobsByState);
        // Waits 0, 0, 2, 4, 9 seconds (the array parent starts no task and is not counted).
        Assert.Equal(new Percentiles(2, 9, 9, 9), s.JobQueueWait);
        Assert.Equal(new JobDrainSummary(5, 0, 9, 2, 0.333, 0), s.JobDrain);

        Assert.True(Thresholds.TryParse("jobsByState.FAILED>0", out var failed, out _));
        Assert.Equal(2, failed!.Measure(s));
        Assert.True(Thresholds.TryParse("jobQueueWait.p90>5s", out var wait, out _));
        Assert.True(wait!.Breached(wait.Measure(s)));
        Assert.False(Thresholds.TryParse("jobsByState.DONE>0", out _, out var error));
        Assert.Contains("SUCCEEDED", error);
    }
}
