using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Scenarios;
using Scheduler.Core.Tests.Cluster;

namespace Scheduler.Core.Tests.ClusterScenarios;

/// <summary>Rolling updates, API errors, throttle semantics, consolidation and scale-in protection through the cluster step, read from the event log.</summary>
public sealed class DeployScenarioTests
{
    private const long Minute = 60_000;

    private static string Fleet(string provider, string service, string timeline, string duration = "4h") => $$"""
        name: deploy
        seed: 5
        duration: {{duration}}
        accounts:
          - id: acme
            clusters:
              - name: prod
                capacityProviders:
                  - {{provider}}
                  - { name: fargate, type: FARGATE }
                taskDefinitions:
                  - family: web
                    cpu: 1024
                    memory: 2048
                    containers:
                      - { name: app, image: web:1, cpu: 1024, memory: 2048,
                          healthCheck: { startPeriod: 10s, interval: 5s, healthyThreshold: 2 } }
                  - family: web
                    revision: 2
                    cpu: 1024
                    memory: 2048
                    containers:
                      - { name: app, image: web:2, cpu: 1024, memory: 2048,
                          healthCheck: { startPeriod: 10s, interval: 5s, healthyThreshold: 2 } }
                services:
                  - {{service}}
        timeline:
        {{timeline}}
        """;

    private const string Mi = "{ name: mi, type: MANAGED_INSTANCES, instanceRequirements: { allowedTypes: [m6i.2xlarge] }, infrastructureOptimization: { enabled: false } }";

    [Fact]
    public async Task A_new_revision_rolls_out_within_minimum_healthy_and_maximum_percent()
    {
        var scenario = TestScenarios.Parse(Fleet(Mi,
            "{ name: web, taskDefinition: 'web:1', desiredCount: 9, capacityProvider: mi, deployment: { minimumHealthyPercent: 100, maximumPercent: 150 } }",
            "  - { at: 30m, updateService: { account: acme, cluster: prod, service: web, taskDefinition: 'web:2' } }"));
        var (summary, events) = await Harness.Run(scenario);

        var services = events.Where(e => e.Kind == EventKinds.Service).ToList();
        Assert.Equal("web:1#1", services.First().Deployment);
        var last = services.Last();
        Assert.Equal(("web:2#2", 9, 9, 9), (last.Deployment, last.Desired, last.Running, last.Healthy));
        // From the update on, healthy never falls below 100 % of 9 and the live tasks never pass 150 %.
        Assert.All(services.Where(e => e.TimeMs >= 30 * Minute), e => Assert.True(e.Healthy >= 9, $"{e.Healthy} healthy at {e.TimeMs / 1000}s"));
        var live = 0;
        var peak = 0;
        foreach (var e in events.Where(e => e.Kind == EventKinds.Task && e.Service == "web"))
        {
            live += e.State switch { TaskStates.Provisioning => 1, TaskStates.Deactivating => -1, _ => 0 };
            peak = Math.Max(peak, live);
        }
        Assert.InRange(peak, 10, 13);
        // Every first-revision task was replaced by the deployment: 18 launched in all (and any rebalancing move afterwards).
        Assert.Equal(9, summary.TasksStoppedByReason[StopReasons.Deployment]);
        Assert.True(summary.TasksStoppedByReason.Keys.All(k => k is StopReasons.Deployment or StopReasons.Rebalancing),
            string.Join(", ", summary.TasksStoppedByReason.Keys));
        Assert.Equal(18, summary.TasksLaunched - summary.TasksStoppedByReason.GetValueOrDefault(StopReasons.Rebalancing));
    }

    [Fact]
    public async Task RunTask_with_count_above_10_is_an_invalid_parameter_error_event()
    {
        var parsed = TestScenarios.Parse(Fleet(Mi, "{ name: web, taskDefinition: web, desiredCount: 0, capacityProvider: mi }",
            "  - { at: 1m, runTask: { account: acme, cluster: prod, taskDefinition: web, count: 5, capacityProvider: fargate } }", "10m"));
        // The loader refuses count > 10 in a file; a call built elsewhere reaches the API and is refused there.
        var run = (RunTaskAction)parsed.Timeline[0].Action;
        var scenario = parsed with { Timeline = [parsed.Timeline[0], new TimelineEntry(TimeSpan.FromMinutes(2), run with { Count = 25 }, 0)] };
        var (summary, events) = await Harness.Run(scenario);

        var error = Assert.Single(events, e => e.Kind == EventKinds.ApiError);
        Assert.Equal((ApiErrors.RunTask, ApiErrors.InvalidParameter, 25, 120_000L), (error.Api, error.Error, error.Requested, error.TimeMs));
        Assert.Contains("\"kind\":\"apiError\",\"account\":\"acme\",\"cluster\":\"prod\",\"api\":\"RunTask\",\"error\":\"InvalidParameterException\",\"requested\":25",
            EventJson.ToJson(error));
        Assert.Equal(5, summary.TasksLaunched);
        Assert.Equal(1, summary.ApiErrors["RunTask/InvalidParameterException"]);
        Assert.DoesNotContain(events, e => e.Kind == EventKinds.Throttle);
    }

    [Fact]
    public async Task A_service_held_back_by_the_Fargate_bucket_logs_one_throttle_per_episode_not_one_per_tick()
    {
        var scenario = TestScenarios.Parse(LaunchLog.Services("fargate", services: 3, tasks: 1000));
        var (summary, events) = await Harness.Run(scenario);
        var throttles = events.Where(e => e.Kind == EventKinds.Throttle).ToList();
        // 3,000 launches through a 20/s bucket take minutes of ticks; each service's request is cut back a few times at most.
        Assert.InRange(throttles.Count, 1, 3 * 3);
        Assert.All(throttles, e => Assert.True(e.Granted < e.Requested));
        Assert.Equal(throttles.Count, summary.Throttles["fargateOnDemand"]);
        Assert.Equal(throttles.Sum(e => e.Requested - e.Granted), summary.ThrottledTasks["fargateOnDemand"]);
        Assert.Equal(3000, summary.TasksHealthy);
    }

    [Fact]
    public async Task Underused_hosts_are_consolidated_without_flapping_or_losing_healthy_tasks()
    {
        var scenario = TestScenarios.Parse(Fleet(
            "{ name: mi, type: MANAGED_INSTANCES, instanceRequirements: { allowedTypes: [m6i.2xlarge] }, infrastructureOptimization: { scaleInAfter: 30m, utilizationThreshold: 30 } }",
            "{ name: web, taskDefinition: web, desiredCount: 36, capacityProvider: mi }",
            "  - { at: 2h, updateService: { account: acme, cluster: prod, service: web, desiredCount: 6 } }", "5h"));
        var (summary, events) = await Harness.Run(scenario);

        var instances = events.Where(e => e.Kind == EventKinds.Instance).ToList();
        var launched = instances.Where(e => e.State == InstanceStates.Launching).ToDictionary(e => e.Instance!, e => e.TimeMs);
        var consolidated = instances.Where(e => e.State == InstanceStates.Draining && e.Reason == DrainReasons.Consolidation).ToList();
        Assert.InRange(launched.Count, 6, 9);
        Assert.NotEmpty(consolidated);
        // Only after the scale-in left hosts underused for 30 minutes, and never a young host.
        Assert.All(consolidated, e => Assert.True(e.TimeMs >= 150 * Minute && e.TimeMs - launched[e.Instance!] >= 30 * Minute));
        // Consolidated hosts terminate; nothing is launched to replace them (no flapping); one host per zone at least remains.
        var terminated = instances.Where(e => e.State == InstanceStates.Terminated).Select(e => e.Instance!).ToHashSet();
        Assert.All(consolidated, e => Assert.Contains(e.Instance!, terminated));
        Assert.DoesNotContain(instances, e => e.State == InstanceStates.Launching && e.TimeMs >= 2 * 60 * Minute);
        Assert.True(launched.Count - terminated.Count >= 3);
        Assert.Equal(consolidated.Count, summary.ReplacementsByReason[DrainReasons.Consolidation]);
        // The drains were start before stop: the service kept its 6 healthy tasks.
        Assert.True(summary.MinHealthyPercentDuringDrains.GetValueOrDefault("acme/prod/web", 100) >= 100);
        var last = events.Last(e => e.Kind == EventKinds.Service);
        Assert.Equal((6, 6, 6), (last.Desired, last.Running, last.Healthy));
    }

    [Fact]
    public async Task Protected_tasks_survive_scale_in_and_hold_their_draining_host_until_protection_ends()
    {
        var scenario = TestScenarios.Parse(Fleet(Mi,
            "{ name: web, taskDefinition: web, desiredCount: 6, capacityProvider: mi }",
            """
              - { at: 30m, updateTaskProtection: { account: acme, cluster: prod, service: web, tasks: all, protectionEnabled: true, expiresIn: 2h } }
              - { at: 1h, updateService: { account: acme, cluster: prod, service: web, desiredCount: 2 } }
              - { at: 1h, drainInstance: { account: acme, cluster: prod, instance: any } }
            """, "4h"));
        var (_, events) = await Harness.Run(scenario);

        var stops = events.Where(e => e.Kind == EventKinds.Task && e.Service == "web" && e.State == TaskStates.Deactivating).ToList();
        Assert.Equal(4, stops.Count);
        Assert.All(stops, e => Assert.True(e.TimeMs >= 150 * Minute, $"{e.Task} stopped at {e.TimeMs / 1000}s while protected"));
        var drained = events.Single(e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Draining);
        Assert.Equal(60 * Minute, drained.TimeMs);
        var ended = events.Single(e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Terminated && e.Instance == drained.Instance);
        Assert.True(ended.TimeMs >= 150 * Minute);
        var last = events.Last(e => e.Kind == EventKinds.Service);
        Assert.Equal((2, 2, 2), (last.Desired, last.Running, last.Healthy));
    }
}
