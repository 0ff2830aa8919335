using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;

namespace Scheduler.Core.Tests.Reporting;

public class FargateCostTests
{
    private static readonly Dictionary<string, bool> Providers = new() { ["a/c/fargate"] = false, ["a/c/spot"] = true };

    private static SimEvent Task(long ms, string id, string state, string provider, int cpu = 0, long memory = 0) => new()
    {
        TimeMs = ms, Kind = EventKinds.Task, Account = "a", Cluster = "c", Task = id, State = state,
        Health = TaskHealth.Unknown, CapacityProvider = provider, Cpu = cpu, MemoryMiB = memory,
    };

    [Fact]
    public void A_fargate_task_costs_its_vcpu_and_gb_hours_from_the_end_of_provisioning_to_stopped()
    {
        var b = new SummaryBuilder(InstanceTypeCatalog.Default, Providers);
        // 1 vCPU, 2 GB: provisioning 0..30 s is not billed, PENDING at 30 s to STOPPED at 2 h 30 s is 2 hours.
        b.Observe(Task(0, "t-1", TaskStates.Provisioning, "fargate", 1024, 2048));
        b.Observe(Task(30_000, "t-1", TaskStates.Pending, "fargate"));
        b.Observe(Task(40_000, "t-1", TaskStates.Running, "fargate"));
        b.Observe(Task(7_230_000, "t-1", TaskStates.Stopped, "fargate"));
        var s = b.Build("x", 1, 8_000_000, 1, 1);

        var expected = Math.Round(2 * (0.04048m + 2 * 0.004445m), 2);
        Assert.Equal(expected, s.FargateCost);
        Assert.Equal(expected, s.Cost);
        Assert.True(s.Cost > 0);
    }

    [Fact]
    public void Spot_is_billed_at_spot_prices_short_tasks_for_a_minute_and_live_tasks_until_the_end_of_the_run()
    {
        var prices = new FargatePrices(1m, 1m, 0.5m, 0.25m);
        var b = new SummaryBuilder(InstanceTypeCatalog.Default, Providers, prices);
        // Spot, 4 vCPU 8 GB, 10 s long: billed one minute at 4 * 0.5 + 8 * 0.25 = 4 $/h.
        b.Observe(Task(0, "t-1", TaskStates.Provisioning, "spot", 4096, 8192));
        b.Observe(Task(1_000, "t-1", TaskStates.Pending, "spot"));
        b.Observe(Task(11_000, "t-1", TaskStates.Stopped, "spot"));
        // On-Demand, 1 vCPU 1 GB, still running at the end of the run: 0.5 h at 2 $/h.
        b.Observe(Task(0, "t-2", TaskStates.Provisioning, "fargate", 1024, 1024));
        b.Observe(Task(0, "t-2", TaskStates.Pending, "fargate"));
        var s = b.Build("x", 1, 1_800_000, 1, 1);

        Assert.Equal(Math.Round(4m / 60 + 1m, 2), s.FargateCost);
    }

    [Fact]
    public void Tasks_of_other_providers_are_not_billed_as_fargate()
    {
        var b = new SummaryBuilder(InstanceTypeCatalog.Default, Providers);
        b.Observe(Task(0, "t-1", TaskStates.Provisioning, "mi", 1024, 2048));
        b.Observe(Task(0, "t-1", TaskStates.Pending, "mi"));
        var s = b.Build("x", 1, 3_600_000, 1, 1);
        Assert.Equal(0m, s.FargateCost);
    }

    [Fact]
    public void A_scenarios_fargate_providers_are_found_by_type()
    {
        var loaded = Scheduler.Core.Scenarios.ScenarioLoader.Parse(
            """
            name: t
            accounts:
              - id: a
                clusters:
                  - name: c
                    capacityProviders:
                      - { name: fargate, type: FARGATE }
                      - { name: spot, type: FARGATE_SPOT }
                      - { name: mi, type: MANAGED_INSTANCES }
            """, "t.yaml");
        Assert.True(loaded.Ok, string.Join("\n", loaded.Errors));
        var map = SummaryBuilder.FargateProvidersOf(loaded.Scenario!);
        Assert.Equal(new Dictionary<string, bool> { ["a/c/fargate"] = false, ["a/c/spot"] = true }, map);
    }
}
