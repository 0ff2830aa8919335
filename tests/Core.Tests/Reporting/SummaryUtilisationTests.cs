using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;

namespace Scheduler.Core.Tests.Reporting;

public class SummaryUtilisationTests
{
    private static SimEvent Task(long ms, string state, string? instance, int cpu = 0, long memory = 0) => new()
    {
        TimeMs = ms, Kind = EventKinds.Task, Account = "a", Cluster = "c", Task = "t-1", State = state,
        Health = TaskHealth.Unknown, Instance = instance, Cpu = cpu, MemoryMiB = memory,
    };

    private static SimEvent Instance(long ms, string state) => new()
    {
        TimeMs = ms, Kind = EventKinds.Instance, Account = "a", Cluster = "c", Instance = "i-1", State = state, InstanceType = "m6i.large",
    };

    [Fact]
    public void Reserved_utilisation_is_the_time_average_of_reservations_over_registered_resources()
    {
        // m6i.large: 2048 cpu units, 8192 MiB, alive 0..100 s. The task reserves 1024 / 2048 from 0 to 50 s.
        var b = new SummaryBuilder(InstanceTypeCatalog.Default);
        b.Observe(Instance(0, InstanceStates.Launching));
        b.Observe(Task(0, TaskStates.Provisioning, null, cpu: 1024, memory: 2048));
        b.Observe(Task(0, TaskStates.Pending, "i-1"));
        b.Observe(Task(10_000, TaskStates.Running, "i-1"));
        b.Observe(Task(50_000, TaskStates.Stopped, "i-1"));
        var s = b.Build("x", 1, 100_000, 1, 1);

        Assert.Equal(25.0, s.ReservedUtilisation.CpuPercent);
        Assert.Equal(12.5, s.ReservedUtilisation.MemoryPercent);
    }

    [Fact]
    public void A_terminated_instance_stops_counting_as_registered()
    {
        var b = new SummaryBuilder(InstanceTypeCatalog.Default);
        b.Observe(Instance(0, InstanceStates.Launching));
        b.Observe(Task(0, TaskStates.Provisioning, null, cpu: 2048, memory: 8192));
        b.Observe(Task(0, TaskStates.Pending, "i-1"));
        b.Observe(Task(40_000, TaskStates.Stopped, "i-1"));
        b.Observe(Instance(40_000, InstanceStates.Terminated));
        var s = b.Build("x", 1, 100_000, 1, 1);

        Assert.Equal(100.0, s.ReservedUtilisation.CpuPercent);
        Assert.Equal(40.0 / 3600, s.InstanceHours, 3);
    }
}
