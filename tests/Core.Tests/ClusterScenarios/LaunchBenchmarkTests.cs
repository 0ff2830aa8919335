using System.Text;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;
using Scheduler.Core.Tests.Cluster;

namespace Scheduler.Core.Tests.ClusterScenarios;

/// <summary>
/// The published launch benchmark with default parameters, and the seed's qualitative
/// results; and that no bucket grants more than its burst plus refill, read from the event log.
/// </summary>
public sealed class LaunchBenchmarkTests
{
    [Theory]
    [InlineData("fargate-on-demand", 208)]
    [InlineData("fargate-spot", 353)]
    [InlineData("fargate-50-50", 213)]
    [InlineData("fargate-no-public-ip", 199)]
    [InlineData("fargate-load-balancer", 252)]
    [InlineData("ec2-scale-from-zero", 1118)]
    [InlineData("ec2-prelaunched", 270)]
    [InlineData("ec2-host-network", 270)]
    public async Task Each_benchmark_case_is_within_five_percent_of_the_published_time(string name, double publishedSeconds)
    {
        var scenario = TestScenarios.Load($"scenarios/ecs-launch-benchmark/{name}.yaml");
        var (summary, events) = await Harness.Run(scenario);

        Assert.Equal(1000, summary.TasksHealthy);
        Assert.InRange(summary.LastHealthyAt, publishedSeconds * 0.95, publishedSeconds * 1.05);
        LaunchLog.AssertWithinBuckets(events, scenario);
    }

    [Fact]
    public async Task A_1000_task_Fargate_deployment_schedules_at_500_a_minute_from_the_start()
    {
        var scenario = TestScenarios.Load("scenarios/ecs-launch-benchmark/fargate-on-demand.yaml");
        var (_, events) = await Harness.Run(scenario);

        var created = events.Where(e => e.Kind == EventKinds.Task && e.State == TaskStates.Provisioning).Select(e => e.TimeMs).Order().ToList();
        Assert.Equal(1000, created.Count);
        // The seed: 1,000 tasks at 500 per minute take about two minutes to schedule; no minute's burst up front.
        Assert.InRange(created.Count(ms => ms < 60_000), 480, 520);
        Assert.InRange(created[^1] / 1000.0, 110, 125);
    }

    [Theory]
    [InlineData("fargate-on-demand", 208, 500)]
    [InlineData("ec2-prelaunched", 270, 250)]
    public async Task A_100_task_deployment_takes_what_the_seeds_rates_imply(string name, double published1000, double perMinute)
    {
        // The published 1,000-task time is the scheduling at the deployment rate plus the launch pipeline after it;
        // 100 tasks take a tenth of the scheduling and the same pipeline.
        var expected = published1000 - 1000 * 60 / perMinute + 100 * 60 / perMinute;
        var yaml = File.ReadAllText(Path.Combine(RepoPaths.Root(), $"scenarios/ecs-launch-benchmark/{name}.yaml")).Replace("desiredCount: 1000", "desiredCount: 100");
        var (summary, _) = await Harness.Run(TestScenarios.Parse(yaml));

        Assert.Equal(100, summary.TasksHealthy);
        Assert.InRange(summary.LastHealthyAt, expected * 0.95, expected * 1.05);
    }

    [Fact]
    public async Task Three_services_deploying_on_Fargate_at_once_finish_later_than_on_prelaunched_EC2()
    {
        var fargate = await Harness.Run(TestScenarios.Parse(LaunchLog.Services("fargate", services: 3, tasks: 1000)));
        var ec2 = await Harness.Run(TestScenarios.Parse(LaunchLog.Services("ec2", services: 3, tasks: 1000)));
        var twoOnFargate = await Harness.Run(TestScenarios.Parse(LaunchLog.Services("fargate", services: 2, tasks: 1000)));

        Assert.Equal(3000, fargate.Summary.TasksHealthy);
        Assert.Equal(3000, ec2.Summary.TasksHealthy);
        // The account's 20/s Fargate bucket is shared by the three services; EC2 has no launch bucket.
        Assert.True(fargate.Summary.LastHealthyAt > ec2.Summary.LastHealthyAt,
            $"Fargate {fargate.Summary.LastHealthyAt}s should be later than EC2 {ec2.Summary.LastHealthyAt}s");
        // With two services Fargate is still the faster one: three is where it turns.
        Assert.True(twoOnFargate.Summary.LastHealthyAt < ec2.Summary.LastHealthyAt);
        Assert.True(fargate.Summary.Throttles.GetValueOrDefault("fargateOnDemand") > 0);
        LaunchLog.AssertWithinBuckets(fargate.Events, TestScenarios.Parse(LaunchLog.Services("fargate", 3, 1000)));
    }

    [Fact]
    public async Task A_50_50_On_Demand_Spot_mix_launches_faster_than_On_Demand_alone_under_throttling()
    {
        // Eight services of 75 tasks at once: 600 launches, asked for at 8 × 500 a minute (about 67/s), against a
        // 100-burst, 20/s On-Demand bucket.
        var onDemand = await Harness.Run(TestScenarios.Parse(LaunchLog.Services("fargate", services: 8, tasks: 75)));
        var mix = await Harness.Run(TestScenarios.Parse(LaunchLog.Services("mix", services: 8, tasks: 75)));

        Assert.Equal(600, onDemand.Summary.TasksHealthy);
        Assert.Equal(600, mix.Summary.TasksHealthy);
        Assert.True(mix.Summary.LastHealthyAt < onDemand.Summary.LastHealthyAt,
            $"mix {mix.Summary.LastHealthyAt}s should beat On-Demand {onDemand.Summary.LastHealthyAt}s");
        // The combined launch rate: the mix draws on two buckets.
        Assert.True(LaunchLog.LaunchedBy(mix.Events, 10_000) > LaunchLog.LaunchedBy(onDemand.Events, 10_000) * 3 / 2);
        Assert.Contains(mix.Events, e => e.Kind == EventKinds.Task && e.CapacityProvider == "spot");
    }

    [Fact]
    public async Task RunTask_on_EC2_bursts_1000_tasks_then_sustains_400_per_second()
    {
        var scenario = TestScenarios.Parse(LaunchLog.RunTaskBurst("ec2", firstSecondCalls: 150, callsPerSecond: 60, seconds: 5));
        var (summary, events) = await Harness.Run(scenario);

        var perSecond = LaunchLog.ProvisioningPerSecond(events);
        Assert.Equal(1000, perSecond.GetValueOrDefault(0));
        for (var t = 1; t <= 5; t++)
        {
            Assert.Equal(400, perSecond.GetValueOrDefault(t));
        }
        // The calls over the RunTask bucket were rejected with a throttling error, one event each.
        Assert.Equal(50 + 5 * 20, events.Count(e => e.Kind == EventKinds.Throttle && e.Bucket == "runTask"));
        Assert.Equal(3000, summary.TasksLaunched);
    }

    [Fact]
    public async Task A_throttled_Fargate_RunTask_does_not_stop_Spot_or_EC2_launches_of_the_same_account()
    {
        var yaml = LaunchLog.RunTaskMix(callsEach: 20);
        var scenario = TestScenarios.Parse(yaml);
        var (_, events) = await Harness.Run(scenario);

        int Launched(string cp) => events.Count(e => e.Kind == EventKinds.Task && e.State == TaskStates.Provisioning && e.CapacityProvider == cp);
        Assert.Equal(100, Launched("fargate"));   // the On-Demand burst, the rest throttled
        Assert.Equal(100, Launched("spot"));      // its own bucket
        Assert.Equal(200, Launched("ec2"));       // no launch bucket at all
        var onDemandThrottles = events.Where(e => e.Kind == EventKinds.Throttle && e.Bucket == "fargateOnDemand").ToList();
        Assert.Equal(10, onDemandThrottles.Count);
        Assert.All(onDemandThrottles, e => Assert.Equal((10, 0), (e.Requested, e.Granted)));
        LaunchLog.AssertWithinBuckets(events, scenario);
    }

    [Fact]
    public async Task Per_account_overrides_raise_the_Fargate_bucket()
    {
        var raised = LaunchLog.Services("fargate", services: 3, tasks: 1000)
            .Replace("  - id: acct\n", "  - id: acct\n    limits: { fargateOnDemand: { burst: 500, perSecond: 100 } }\n");
        var normal = await Harness.Run(TestScenarios.Parse(LaunchLog.Services("fargate", services: 3, tasks: 1000)));
        var fast = await Harness.Run(TestScenarios.Parse(raised));
        Assert.True(fast.Summary.LastHealthyAt < normal.Summary.LastHealthyAt - 60);
        Assert.True(fast.Summary.Throttles.GetValueOrDefault("fargateOnDemand") < normal.Summary.Throttles.GetValueOrDefault("fargateOnDemand"));
        LaunchLog.AssertWithinBuckets(fast.Events, TestScenarios.Parse(raised));
    }
}
