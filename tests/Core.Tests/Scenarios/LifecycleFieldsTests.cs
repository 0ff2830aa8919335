using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Scenarios;

/// <summary>The scenario fields of the host lifecycle: patchCycle, maintenance and Spot rates, rebalancing, host faults.</summary>
public sealed class LifecycleFieldsTests
{
    private static string Scenario(string provider, string cluster = "", string timeline = "") => $$"""
        name: lc
        seed: 1
        accounts:
          - id: acme
            clusters:
              - name: prod
        {{cluster}}
                capacityProviders:
                  - {{provider}}
                taskDefinitions:
                  - family: web
                    containers:
                      - { name: app, image: web:1, cpu: 256, memory: 512 }
        timeline: [{{timeline}}]
        """;

    [Fact]
    public void Lifecycle_fields_and_host_faults_load()
    {
        var result = ScenarioLoader.Parse(Scenario(
            "{ name: mi, type: MANAGED_INSTANCES, patchCycle: { replaceInWindowAfter: 10d, replaceAnyTimeAfter: 12d, maxLifetime: 20d, maxConcurrentReplacements: 3 }, maintenanceEventRate: 0.5, spotInterruptionRate: 0.1 }",
            "        rebalancing: false",
            "{ at: 1d, maintenanceEvent: { account: acme, cluster: prod, instance: any } }, { at: 2d, interruptSpot: { account: acme, cluster: prod, instance: i-00001 } }, { at: 3d, disconnectAgent: { account: acme, cluster: prod, instance: any } }"),
            "lc.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var cluster = result.Scenario!.Accounts[0].Clusters[0];
        Assert.False(cluster.Rebalancing);
        var cp = cluster.CapacityProviders[0];
        Assert.Equal(new PatchCycleSpec
        {
            ReplaceInWindowAfter = TimeSpan.FromDays(10), ReplaceAnyTimeAfter = TimeSpan.FromDays(12), MaxLifetime = TimeSpan.FromDays(20),
            MaxConcurrentReplacements = 3,
        }, cp.PatchCycle);
        Assert.Equal((0.5, 0.1), (cp.MaintenanceEventRate, cp.SpotInterruptionRate));
        Assert.Equal(["maintenance-event", "spot-interruption", "agent-disconnect"],
            result.Scenario.Timeline.Select(t => ((DrainInstanceAction)t.Action).Reason));
    }

    [Fact]
    public void Defaults_are_the_specs_14_21_30_days_and_rebalancing_on()
    {
        var result = ScenarioLoader.Parse(Scenario("{ name: mi, type: MANAGED_INSTANCES }"), "lc.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.True(result.Scenario!.Accounts[0].Clusters[0].Rebalancing);
        Assert.Equal(new PatchCycleSpec(), result.Scenario.Accounts[0].Clusters[0].CapacityProviders[0].PatchCycle);
        Assert.Equal(TimeSpan.FromDays(30), new PatchCycleSpec().MaxLifetime);
    }

    [Fact]
    public void Patch_ages_out_of_order_and_patching_a_fargate_provider_are_errors_with_their_place()
    {
        var result = ScenarioLoader.Parse(Scenario(
            "{ name: mi, type: MANAGED_INSTANCES, patchCycle: { replaceInWindowAfter: 22d, maxLifetime: 40d } }"), "lc.yaml");
        var error = Assert.Single(result.Errors);
        Assert.Equal((9, 86, "accounts[0].clusters[0].capacityProviders[0].patchCycle.replaceInWindowAfter"), (error.Line, error.Column, error.Field));
        Assert.Contains("is after replaceAnyTimeAfter (21d)", error.Message);

        var fargate = ScenarioLoader.Parse(Scenario("{ name: f, type: FARGATE, patchCycle: { maxLifetime: 25d } }"), "lc.yaml");
        var e2 = Assert.Single(fargate.Errors);
        Assert.Equal("accounts[0].clusters[0].capacityProviders[0].patchCycle", e2.Field);
        Assert.Contains("does not apply to a FARGATE capacity provider", e2.Message);
    }

    [Fact]
    public void A_FARGATE_SPOT_provider_takes_an_interruption_rate_and_On_Demand_Fargate_does_not()
    {
        var spot = ScenarioLoader.Parse(Scenario("{ name: s, type: FARGATE_SPOT, spotInterruptionRate: 2.5 }"), "lc.yaml");
        Assert.True(spot.Ok, string.Join("\n", spot.Errors));
        Assert.Equal(2.5, spot.Scenario!.Accounts[0].Clusters[0].CapacityProviders[0].SpotInterruptionRate);

        var onDemand = ScenarioLoader.Parse(Scenario("{ name: f, type: FARGATE, spotInterruptionRate: 2.5 }"), "lc.yaml");
        Assert.Equal("accounts[0].clusters[0].capacityProviders[0].spotInterruptionRate", Assert.Single(onDemand.Errors).Field);
    }

    [Fact]
    public void A_containers_exit_time_loads_and_a_negative_one_is_an_error()
    {
        var text = Scenario("{ name: mi, type: MANAGED_INSTANCES }").Replace("cpu: 256, memory: 512 }", "cpu: 256, memory: 512, exitTime: 45s }");
        var result = ScenarioLoader.Parse(text, "lc.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(TimeSpan.FromSeconds(45), result.Scenario!.Accounts[0].Clusters[0].TaskDefinitions[0].Containers[0].ExitTime);

        var bad = ScenarioLoader.Parse(text.Replace("exitTime: 45s", "exitTime: -5s"), "lc.yaml");
        Assert.Contains("exitTime", Assert.Single(bad.Errors).Field);
    }
}
