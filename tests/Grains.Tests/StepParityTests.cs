using Scheduler.Core.Tests.Cluster;

namespace Scheduler.Grains.Tests;

/// <summary>
/// The grains carry out the cluster step's plan: a scenario run through the simulation, account, cluster, service,
/// instance, bucket and placement grains gives the same event log, byte for byte, as the same scenario run through
/// the step with the same agents held in memory (the Core harness the scenario tests use).
/// </summary>
public sealed class StepParityTests(LaunchClusterFixture fixture) : IClassFixture<LaunchClusterFixture>
{
    [Theory]
    [InlineData("scenarios/quickstart.yaml")]
    [InlineData("scenarios/oom-host.yaml")]
    [InlineData("scenarios/patch-cycle-40d.yaml")]
    public async Task The_grains_give_the_log_of_the_step_run_in_memory(string path)
    {
        var scenario = TestScenarios.Load(path);
        var grains = (await TestClusters.RunAsync(fixture.Cluster.Client, scenario, "parity-" + Path.GetFileNameWithoutExtension(path))).Log;
        var (harness, _, _) = await Harness.RunAsync(scenario);
        Assert.True(grains.Length > 10_000, "the scenario should produce a substantial log");
        Assert.Equal(harness, grains);
    }
}
