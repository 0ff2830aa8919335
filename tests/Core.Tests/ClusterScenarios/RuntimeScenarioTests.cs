using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;
using Scheduler.Core.Tests.Cluster;

namespace Scheduler.Core.Tests.ClusterScenarios;

/// <summary>The task runtime end to end, checked through the events.jsonl contract and the summary.</summary>
public sealed class RuntimeScenarioTests
{
    private static RunSummary Summarize(Scenario scenario, List<SimEvent> events)
    {
        var builder = new SummaryBuilder(InstanceTypeCatalog.Default);
        foreach (var e in events)
        {
            builder.Observe(e);
        }
        return builder.Build(scenario.Name, scenario.Seed, (long)scenario.Duration!.Value.TotalMilliseconds, 1, 1);
    }

    [Fact]
    public async Task A_node_heap_at_75_percent_of_a_small_container_is_oom_killed_and_a_sane_heap_is_not()
    {
        var scenario = TestScenarios.Load("scenarios/oom-node-heap.yaml");
        var (_, _, events) = await Harness.RunAsync(scenario);
        var ooms = events.Where(e => e.Kind == EventKinds.Oom).ToList();
        Assert.NotEmpty(ooms);
        Assert.All(ooms, e => Assert.Equal(("app", OomScopes.Container, (string?)null), (e.Container, e.Scope, e.Instance)));
        Assert.All(ooms, e => Assert.StartsWith("node-75pct-", e.Task));
        // Each kill stops its task with exit 137, and the service replaces it.
        var stopped = events.Where(e => e.Kind == EventKinds.Task && e.State == TaskStates.Stopped && e.Reason == StopReasons.OutOfMemory).ToList();
        Assert.Equal(ooms.Select(e => e.Task).Order(), stopped.Select(e => e.Task).Order());
        Assert.DoesNotContain(events, e => e.Service == "node-sane" && e.State == TaskStates.Stopped);
        // No kill before the heap has had time to grow past 416 MiB (300 + 60/h, at most +32 of noise).
        var firstRunning = events.Where(e => e.State == TaskStates.Running).Min(e => e.TimeMs);
        Assert.True(ooms.Min(e => e.TimeMs) - firstRunning > 3_600_000);
        var summary = Summarize(scenario, events);
        Assert.Equal(ooms.Count, summary.OomKills);
        Assert.Equal(ooms.Count, summary.TasksStoppedByReason[StopReasons.OutOfMemory]);
        var last = events.Last(e => e.Kind == EventKinds.Service && e.Service == "node-sane");
        Assert.Equal((3, 3), (last.Running, last.Healthy));
    }

    [Fact]
    public async Task Reservations_that_fit_but_real_use_that_does_not_wake_the_host_oom_killer()
    {
        var scenario = TestScenarios.Load("scenarios/oom-host.yaml");
        var (_, _, events) = await Harness.RunAsync(scenario);
        var ooms = events.Where(e => e.Kind == EventKinds.Oom).ToList();
        Assert.NotEmpty(ooms);
        Assert.All(ooms, e => Assert.Equal(OomScopes.Host, e.Scope));
        Assert.All(ooms, e => Assert.StartsWith("i-", e.Instance));
        // The protected api is never chosen; the low-priority batch jobs go, reported STOPPED as standalone tasks.
        Assert.DoesNotContain(ooms, e => e.Task!.StartsWith("api-", StringComparison.Ordinal));
        var batch = events.Where(e => e.Kind == EventKinds.Task && e.Service is null && e.State == TaskStates.Stopped).ToList();
        Assert.Equal(4, batch.Count);
        Assert.All(batch, e => Assert.Equal(StopReasons.OutOfMemory, e.Reason));
        // The first kill of the batch hour is a batch job (oom_score_adj 500), before any cache task that hour.
        var batchHour = ooms.Where(e => e.TimeMs >= 1_800_000).ToList();
        Assert.StartsWith("run-", batchHour[0].Task);
        // Cache tasks killed before they were stable slow the cache service down: its throttle grows, bounded.
        var backoffs = events.Where(e => e.Kind == EventKinds.Service && e.Service == "cache").Select(e => e.BackoffSeconds).Distinct().Where(b => b > 0).ToList();
        Assert.True(backoffs.Count >= 3, string.Join(",", backoffs));
        Assert.All(backoffs, b => Assert.InRange(b, 10, 27 * 60));
        var summary = Summarize(scenario, events);
        Assert.Equal(ooms.Count, summary.OomKills);
        Assert.Equal(ooms.Count, summary.OomKillsByScope[OomScopes.Host]);
    }

    private const string Throttle = """
        name: throttle
        seed: 3
        duration: 4h
        accounts:
          - id: t1
            clusters:
              - name: c1
                capacityProviders:
                  - { name: fargate, type: FARGATE }
                taskDefinitions:
                  - family: good
                    cpu: 256
                    memory: 512
                    containers:
                      - { name: app, image: good:1, memory: 512, healthCheck: { interval: 5s, healthyThreshold: 2 } }
                  - family: bad
                    cpu: 256
                    memory: 512
                    containers:
                      - { name: app, image: bad:1, memory: 512, failures: { startFailure: 1 } }
                services:
                  - { name: good, taskDefinition: good, desiredCount: 3, capacityProvider: fargate }
        {BAD}
        timeline:
          - { at: 30m, updateService: { account: t1, cluster: c1, service: good, desiredCount: 6 } }
        {RESET}
        """;

    private static Scenario ThrottleScenario(bool withBad) => TestScenarios.Parse(Throttle
        .Replace("{BAD}", withBad ? "          - { name: bad, taskDefinition: bad, desiredCount: 2, capacityProvider: fargate }" : "")
        .Replace("{RESET}", withBad ? "  - { at: 3h, updateService: { account: t1, cluster: c1, service: bad, forceNewDeployment: true } }" : ""));

    [Fact]
    public async Task A_service_that_cannot_start_backs_off_exponentially_resets_on_a_new_deployment_and_never_slows_its_neighbour()
    {
        var (_, ticks, events) = await Harness.RunAsync(ThrottleScenario(withBad: true));
        var (_, _, alone) = await Harness.RunAsync(ThrottleScenario(withBad: false));

        // The neighbour's tasks do exactly what they do without the failing service next to them.
        static List<string> Good(List<SimEvent> log) => log.Where(e => e.Kind == EventKinds.Task && e.Service == "good").Select(EventJson.ToJson).ToList();
        Assert.Equal(Good(alone), Good(events));

        var bad = events.Where(e => e.Kind == EventKinds.Service && e.Service == "bad").ToList();
        Assert.DoesNotContain(events, e => e.Service == "bad" && e.State == TaskStates.Running);
        var before = bad.Where(e => e.TimeMs < 3 * 3_600_000).Select(e => e.BackoffSeconds).Distinct().Where(b => b > 0).ToList();
        // 10 s doubling: 10, 20, 40, ... up to ECS's 27 minutes, then held there.
        Assert.Equal(before.Take(8), new double[] { 10, 20, 40, 80, 160, 320, 640, 1280 });
        Assert.Equal(1620, before[^1]);
        // Launch attempts (PROVISIONING) are spaced by at least the throttle delay in force.
        var attempts = events.Where(e => e.Service == "bad" && e.State == TaskStates.Provisioning && e.TimeMs < 3 * 3_600_000).Select(e => e.TimeMs).Distinct().ToList();
        Assert.True(attempts.Count is > 8 and < 40, $"{attempts.Count} attempts");
        Assert.True(attempts[^1] - attempts[^2] >= 1_620_000);
        // A force-new-deployment clears the throttle at once.
        var reset = bad.Single(e => e.TimeMs == 3 * 3_600_000);
        Assert.Equal(0, reset.BackoffSeconds);
        Assert.Contains(events, e => e.Service == "bad" && e.State == TaskStates.Provisioning && e.TimeMs == 3 * 3_600_000);
        // Throttled services are looked at when their delay ends, not every tick.
        Assert.True(ticks < 3_000, $"{ticks} ticks for 4 simulated hours");
    }

    private const string Breaker = """
        name: breaker
        seed: 9
        duration: 3h
        accounts:
          - id: t1
            clusters:
              - name: c1
                capacityProviders:
                  - { name: fargate, type: FARGATE }
                taskDefinitions:
                  - family: web
                    revision: 1
                    cpu: 256
                    memory: 512
                    containers:
                      - { name: app, image: web:1, memory: 512, healthCheck: { interval: 5s, healthyThreshold: 2 } }
                  - family: web
                    revision: 2
                    cpu: 256
                    memory: 512
                    containers:
                      - { name: app, image: web:2, memory: 512, healthCheck: { interval: 5s, healthyThreshold: 2 },
                          failures: { healthCheckFailure: 1 } }
                services:
                  - { name: web, taskDefinition: "web:1", desiredCount: 4, capacityProvider: fargate,
                      deployment: { circuitBreaker: { enable: true, rollback: true } } }
        timeline:
          - { at: 1h, updateService: { account: t1, cluster: c1, service: web, taskDefinition: "web:2", desiredCount: 8 } }
        """;

    [Fact]
    public async Task The_circuit_breaker_fails_a_deployment_whose_tasks_fail_health_checks_and_rolls_it_back()
    {
        var (_, _, events) = await Harness.RunAsync(TestScenarios.Parse(Breaker));
        var service = events.Where(e => e.Kind == EventKinds.Service).ToList();
        // The service events' deployment: the initial one, the update, and the rollback (a new deployment of web:1).
        Assert.Equal(["web:1#1", "web:2#2", "web:1#3"], service.Select(e => e.Deployment).Where((d, i) => i == 0 || d != service[i - 1].Deployment).ToList());
        var rollback = service.First(e => e.Deployment == "web:1#3").TimeMs;
        // Threshold for 8 desired: max(3, 0.5 × 8) = 4 tasks failed their health checks: fewer before the rollback's tick,
        // at least 4 by it (tasks that fail in the same tick all count).
        var failed = events.Where(e => e.State == TaskStates.Running && e.Health == TaskHealth.Unhealthy && e.TimeMs <= rollback).ToList();
        Assert.True(failed.Count(e => e.TimeMs < rollback) < 4 && failed.Count >= 4, $"{failed.Count} failed by the rollback");
        Assert.All(failed, f => Assert.Contains(events, e => e.Task == f.Task && e.State == TaskStates.Stopped && e.Reason == StopReasons.HealthCheckFailed));
        var last = service[^1];
        Assert.Equal((8, 8, 8, "web:1#3"), (last.Desired, last.Running, last.Healthy, last.Deployment));
    }
}
