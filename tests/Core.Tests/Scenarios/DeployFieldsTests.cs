using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Scenarios;

/// <summary>The scenario fields of deployments and scale-in: infrastructureOptimization, protectedFromScaleIn, updateTaskProtection.</summary>
public sealed class DeployFieldsTests
{
    private static string Scenario(string provider, string service = "", string timeline = "") => $$"""
        name: dp
        seed: 1
        accounts:
          - id: acme
            clusters:
              - name: prod
                capacityProviders:
                  - {{provider}}
                taskDefinitions:
                  - family: web
                    containers:
                      - { name: app, image: web:1, cpu: 256, memory: 512 }
                services:
                  - { name: web, taskDefinition: web, desiredCount: 2{{service}} }
        timeline: [{{timeline}}]
        """;

    [Fact]
    public void Consolidation_is_on_by_default_and_configurable()
    {
        var byDefault = ScenarioLoader.Parse(Scenario("{ name: mi, type: MANAGED_INSTANCES }"), "dp.yaml");
        Assert.True(byDefault.Ok, string.Join("\n", byDefault.Errors));
        Assert.Equal(new InfrastructureOptimizationSpec(), byDefault.Scenario!.Accounts[0].Clusters[0].CapacityProviders[0].InfrastructureOptimization);
        Assert.True(new InfrastructureOptimizationSpec().Enabled);

        var set = ScenarioLoader.Parse(Scenario(
            "{ name: mi, type: MANAGED_INSTANCES, infrastructureOptimization: { scaleInAfter: 30m, utilizationThreshold: 35, maxConcurrent: 2 } }"), "dp.yaml");
        Assert.True(set.Ok, string.Join("\n", set.Errors));
        Assert.Equal(new InfrastructureOptimizationSpec { ScaleInAfter = TimeSpan.FromMinutes(30), UtilizationThreshold = 35, MaxConcurrent = 2 },
            set.Scenario!.Accounts[0].Clusters[0].CapacityProviders[0].InfrastructureOptimization);
    }

    [Fact]
    public void Consolidating_a_fargate_provider_and_a_threshold_above_100_are_errors_with_their_place()
    {
        var fargate = ScenarioLoader.Parse(Scenario("{ name: f, type: FARGATE, infrastructureOptimization: { enabled: false } }"), "dp.yaml");
        Assert.Contains(fargate.Errors, e => e.Field == "accounts[0].clusters[0].capacityProviders[0].infrastructureOptimization"
            && e.Message.Contains("does not apply to a FARGATE capacity provider", StringComparison.Ordinal));

        var over = ScenarioLoader.Parse(Scenario("{ name: mi, type: MANAGED_INSTANCES, infrastructureOptimization: { utilizationThreshold: 120 } }"), "dp.yaml");
        var error = Assert.Single(over.Errors);
        Assert.Equal("accounts[0].clusters[0].capacityProviders[0].infrastructureOptimization.utilizationThreshold", error.Field);
        Assert.Equal(8, error.Line);
    }

    [Fact]
    public void Task_protection_loads_with_the_ECS_default_expiry()
    {
        var result = ScenarioLoader.Parse(Scenario("{ name: mi, type: MANAGED_INSTANCES }", ", protectedFromScaleIn: true",
            "{ at: 1h, updateTaskProtection: { account: acme, cluster: prod, service: web, tasks: all, protectionEnabled: true } }, "
            + "{ at: 2h, updateTaskProtection: { account: acme, cluster: prod, service: web, tasks: [web-00001], protectionEnabled: true, expiresIn: 30m } }, "
            + "{ at: 3h, updateTaskProtection: { account: acme, cluster: prod, service: web, tasks: all, protectionEnabled: false } }"), "dp.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.True(result.Scenario!.Accounts[0].Clusters[0].Services[0].ProtectedFromScaleIn);
        var actions = result.Scenario.Timeline.Select(t => (UpdateTaskProtectionAction)t.Action).ToList();
        Assert.Equal((null, true, TimeSpan.FromHours(2)), (actions[0].Tasks, actions[0].ProtectionEnabled, actions[0].ExpiresIn));
        Assert.Equal(["web-00001"], actions[1].Tasks);
        Assert.Equal(TimeSpan.FromMinutes(30), actions[1].ExpiresIn);
        Assert.False(actions[2].ProtectionEnabled);
    }

    [Fact]
    public void Task_protection_errors_name_their_field()
    {
        var result = ScenarioLoader.Parse(Scenario("{ name: mi, type: MANAGED_INSTANCES }", "",
            "{ at: 1h, updateTaskProtection: { account: acme, cluster: prod, service: wbe, tasks: some, protectionEnabled: true, expiresIn: 3d } }"), "dp.yaml");
        var fields = result.Errors.Select(e => e.Field.Split('.').Last()).Order().ToList();
        Assert.Equal(["expiresIn", "service", "tasks"], fields);
        Assert.Contains(result.Errors, e => e.Message.Contains("did you mean 'web'", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Message.Contains("above the ECS maximum of 48h", StringComparison.Ordinal));
        Assert.All(result.Errors, e => Assert.Equal(15, e.Line));
    }
}
