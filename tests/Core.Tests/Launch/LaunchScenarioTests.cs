using Scheduler.Core.Engine;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Launch;

/// <summary>The launch pipeline and limits are scenario-overridable; bad values get file, line, column and field.</summary>
public sealed class LaunchScenarioTests
{
    private static string Scenario(string extraTop, string limits = "") => $$"""
        name: pipeline
        {{extraTop}}
        accounts:
          - id: acme
        {{limits}}
            clusters:
              - name: prod
                capacityProviders:
                  - { name: fargate, type: FARGATE }
                taskDefinitions:
                  - family: web
                    cpu: 256
                    memory: 512
                    containers:
                      - { name: app, image: web:1, cpu: 256, memory: 512 }
        """;

    [Fact]
    public void Defaults_apply_when_the_scenario_says_nothing()
    {
        var result = ScenarioLoader.Parse(Scenario(""), "ok.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(LaunchPipeline.Default, result.Scenario!.LaunchPipeline);
    }

    [Fact]
    public void Named_delays_and_limits_are_overridden()
    {
        var text = Scenario(
            "launchPipeline: { eniAttach: 2s, publicIpAssignment: 0s, fargateCapacityAcquisition: 1m, spotCapacityPerSecond: 7.5, managedScalingMinimumStep: 4 }",
            "    limits: { serviceDeploymentFargate: { burst: 1000, perSecond: 50 }, fargateSpot: { burst: 10, perSecond: 1 } }");
        var result = ScenarioLoader.Parse(text, "ok.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var p = result.Scenario!.LaunchPipeline;
        Assert.Equal(TimeSpan.FromSeconds(2), p.EniAttach);
        Assert.Equal(TimeSpan.Zero, p.PublicIpAssignment);
        Assert.Equal(TimeSpan.FromMinutes(1), p.FargateCapacityAcquisition);
        Assert.Equal(7.5, p.SpotCapacityPerSecond);
        Assert.Equal(4, p.ManagedScalingMinimumStep);
        Assert.Equal(LaunchPipeline.Default.ContainerStart, p.ContainerStart);
        var limits = result.Scenario.Accounts[0].Limits;
        Assert.Equal(new BucketLimit(1000, 50), limits[BucketNames.ServiceDeploymentFargate]);
        Assert.Equal(new BucketLimit(10, 1), limits[BucketNames.FargateSpot]);
    }

    [Fact]
    public void Bad_pipeline_values_name_line_column_and_field()
    {
        var result = ScenarioLoader.Parse(Scenario("launchPipeline: { eniAttach: -2s, imagePullMiBPerSecond: 0, warp: 1 }"), "bad.yaml");
        Assert.False(result.Ok);
        var errors = result.Errors.Select(e => (e.Line, e.Field)).ToList();
        Assert.Contains((2, "launchPipeline.eniAttach"), errors);
        Assert.Contains((2, "launchPipeline.imagePullMiBPerSecond"), errors);
        Assert.Contains(result.Errors, e => e.Field.Contains("warp", StringComparison.Ordinal) || e.Message.Contains("warp", StringComparison.Ordinal));
        Assert.All(result.Errors, e => Assert.Equal("bad.yaml", e.File));
    }

    [Fact]
    public void RunTask_count_above_ten_is_an_invalid_parameter()
    {
        var text = Scenario("") + """

            timeline:
              - { at: 1s, runTask: { account: acme, cluster: prod, taskDefinition: web, count: 11, capacityProvider: fargate } }
            """;
        var result = ScenarioLoader.Parse(text, "bad.yaml");
        Assert.False(result.Ok);
        Assert.Contains(result.Errors, e => e.Field.EndsWith("count", StringComparison.Ordinal));
    }
}
