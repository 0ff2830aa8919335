using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Reporting;

/// <summary>What the summary needs the scenario for: on-premises host shapes and which providers are Fargate.</summary>
public class SummaryFleetTests
{
    private static readonly Scenario Scenario = ScenarioLoader.Parse("""
        name: fleet
        duration: 1h
        accounts:
          - id: a
            clusters:
              - name: c
                capacityProviders:
                  - { name: onprem, type: EXTERNAL, instances: [ { vcpu: 4, memoryMiB: 16384, count: 1 } ] }
                  - { name: fg, type: FARGATE }
                  - { name: spot, type: FARGATE_SPOT }
                taskDefinitions:
                  - family: web
                    cpu: 1024
                    memory: 2048
                    containers:
                      - { name: app, image: x, cpu: 1024, memoryReservation: 2048, memory: 2048 }
        """, "fleet.yaml").Scenario!;

    private static SimEvent Task(long ms, string id, string state, string provider, string? instance = null, int cpu = 0, long memory = 0) => new()
    {
        TimeMs = ms, Kind = EventKinds.Task, Account = "a", Cluster = "c", Task = id, State = state, CapacityProvider = provider,
        Health = TaskHealth.Unknown, Instance = instance, Cpu = cpu, MemoryMiB = memory,
    };

    [Fact]
    public void External_hosts_count_in_reserved_utilisation()
    {
        var b = new SummaryBuilder(InstanceTypeCatalog.Default, Scenario);
        var host = Scenario.Accounts[0].Clusters[0].CapacityProviders[0].Instances[0].ToInstanceType();
        b.Observe(new SimEvent { TimeMs = 0, Kind = EventKinds.Instance, Account = "a", Cluster = "c", Instance = "i-1", State = InstanceStates.Launching, InstanceType = host.Name, CapacityProvider = "onprem" });
        b.Observe(Task(0, "t-1", TaskStates.Provisioning, "onprem", cpu: 2048, memory: 4096));
        b.Observe(Task(0, "t-1", TaskStates.Pending, "onprem", "i-1"));
        var s = b.Build("x", 1, 3_600_000, 1, 1);

        Assert.Equal(50.0, s.ReservedUtilisation.CpuPercent);
        Assert.Equal(25.0, s.ReservedUtilisation.MemoryPercent);
        Assert.Equal(0m, s.Cost);
    }

    [Fact]
    public void Fargate_tasks_cost_their_size_from_image_pull_to_stop()
    {
        var b = new SummaryBuilder(InstanceTypeCatalog.Default, Scenario);
        // 1 vCPU / 2 GB on-demand for 2 h (billing starts at PENDING), and the same size on Spot still running at the end (1 h).
        b.Observe(Task(0, "t-1", TaskStates.Provisioning, "fg", cpu: 1024, memory: 2048));
        b.Observe(Task(0, "t-2", TaskStates.Provisioning, "spot", cpu: 1024, memory: 2048));
        b.Observe(Task(600_000, "t-1", TaskStates.Pending, "fg"));
        b.Observe(Task(3_600_000, "t-2", TaskStates.Pending, "spot"));
        b.Observe(Task(7_800_000, "t-1", TaskStates.Stopped, "fg"));
        var s = b.Build("x", 1, 7_200_000, 1, 1);

        var p = FargatePricing.Default;
        Assert.Equal(3.0, s.FargateVcpuHours, 3);
        Assert.Equal(6.0, s.FargateGbHours, 3);
        Assert.Equal(Math.Round(2 * p.VcpuHour + 4 * p.GbHour, 2), s.CostByCapacityType["FARGATE"]);
        Assert.Equal(Math.Round(p.SpotVcpuHour + 2 * p.SpotGbHour, 2), s.CostByCapacityType["FARGATE_SPOT"]);
        Assert.Equal(Math.Round(2 * p.VcpuHour + 4 * p.GbHour + p.SpotVcpuHour + 2 * p.SpotGbHour, 2), s.Cost);
    }

    [Fact]
    public void Refused_RunTask_tasks_are_counted_whether_the_call_or_its_launches_were_refused()
    {
        var b = new SummaryBuilder(InstanceTypeCatalog.Default, Scenario);
        b.Observe(new SimEvent { TimeMs = 0, Kind = EventKinds.Throttle, Account = "a", Cluster = "c", Bucket = "runTask", Requested = 1, Tasks = 10 });
        b.Observe(new SimEvent { TimeMs = 0, Kind = EventKinds.Throttle, Account = "a", Cluster = "c", Bucket = "fargateOnDemand", Requested = 10, Granted = 6, Tasks = 4 });
        b.Observe(new SimEvent { TimeMs = 0, Kind = EventKinds.Throttle, Account = "a", Cluster = "c", Bucket = "fargateOnDemand", Requested = 50, Granted = 20 });
        b.Observe(new SimEvent { TimeMs = 0, Kind = EventKinds.ApiError, Account = "a", Cluster = "c", Api = ApiErrors.RunTask, Error = ApiErrors.InvalidParameter, Requested = 11 });
        var s = b.Build("x", 1, 1, 1, 1);

        Assert.Equal(25, s.RunTaskTasksRefused);
        Assert.Equal(10, s.ThrottledTasks["runTask"]);
        Assert.Equal(34, s.ThrottledTasks["fargateOnDemand"]);
    }
}
