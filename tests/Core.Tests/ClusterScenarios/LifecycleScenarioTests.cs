using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;
using Scheduler.Core.Tests.Cluster;

namespace Scheduler.Core.Tests.ClusterScenarios;

/// <summary>The host lifecycle end to end, checked only through the events.jsonl contract.</summary>
public sealed class LifecycleScenarioTests
{
    private const long Day = 86_400_000L;

    private static Dictionary<string, long> Launched(List<SimEvent> events) => events
        .Where(e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Launching).ToDictionary(e => e.Instance!, e => e.TimeMs);

    [Fact]
    public async Task Forty_days_replace_hosts_in_the_window_from_day_14_and_anywhere_from_day_21()
    {
        var scenario = TestScenarios.Load("scenarios/patch-cycle-40d.yaml");
        var window = scenario.Accounts[0].Clusters[0].CapacityProviders[0].MaintenanceWindow!;
        var (_, _, events) = await Harness.RunAsync(scenario);
        var launched = Launched(events);
        var drains = events.Where(e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Draining).ToList();

        var day14 = drains.Where(e => e.Reason == DrainReasons.PatchDay14).ToList();
        var day21 = drains.Where(e => e.Reason == DrainReasons.PatchDay21).ToList();
        Assert.NotEmpty(day14);
        Assert.NotEmpty(day21);
        Assert.All(day14, e =>
        {
            Assert.True(PatchPolicy.InWindow(e.TimeMs, window, scenario.Start), $"{e.Instance} drained at {e.TimeMs / 1000}s, outside the window");
            Assert.InRange(e.TimeMs - launched[e.Instance!], 14 * Day, 21 * Day - 1);
        });
        Assert.All(day21, e => Assert.True(e.TimeMs - launched[e.Instance!] >= 21 * Day));
        Assert.Contains(day21, e => !PatchPolicy.InWindow(e.TimeMs, window, scenario.Start));

        // No host lives past day 30; every replacement boots the latest AMI.
        var ended = events.Where(e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Terminated).ToDictionary(e => e.Instance!, e => e.TimeMs);
        Assert.All(launched, kv => Assert.True(ended.GetValueOrDefault(kv.Key, 40 * Day) - kv.Value <= 30 * Day, kv.Key));
        Assert.All(events.Where(e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Launching && e.TimeMs >= 10 * Day),
            e => Assert.Equal("1.21.0", e.Ami));

        // The long RunTask task ran to completion; its host drained but waited for it.
        var batch = events.Where(e => e.Kind == EventKinds.Task && e.Service is null).ToList();
        var stopped = Assert.Single(batch, e => e.State == TaskStates.Stopped);
        Assert.Equal(StopReasons.EssentialExited, stopped.Reason);
        Assert.Equal(33 * Day, stopped.TimeMs, (double)Day / 24);
        var host = stopped.Instance!;
        Assert.True(drains.Single(e => e.Instance == host).TimeMs < stopped.TimeMs);
        Assert.Equal(stopped.TimeMs, ended[host]);

        // Drains never took a service below its minimum healthy percent.
        var summary = Summarize(scenario, events);
        Assert.True(summary.MinHealthyPercentDuringDrains["acme/prod/web"] >= 100);
        Assert.True(summary.MinHealthyPercentDuringDrains["acme/prod/api"] >= 50);
        Assert.True(summary.MaxInstanceAgeDays <= 30);
        Assert.Equal(day21.Count, summary.ReplacementsByReason[DrainReasons.PatchDay21]);
    }

    private static RunSummary Summarize(Scenario scenario, List<SimEvent> events)
    {
        var builder = new SummaryBuilder(InstanceTypeCatalog.Default);
        foreach (var e in events)
        {
            builder.Observe(e);
        }
        return builder.Build(scenario.Name, scenario.Seed, 40 * Day, 1, 1);
    }

    private const string ZoneFailure = """
        name: zone-failure
        seed: 5
        duration: 2d
        accounts:
          - id: t1
            clusters:
              - name: c1
                zones: [a, b, c]
                capacityProviders:
                  - { name: mi, type: MANAGED_INSTANCES, instanceRequirements: { vcpu: { min: 2, max: 2 }, families: [m] } }
                taskDefinitions:
                  - family: web
                    cpu: 2048
                    memory: 4096
                    containers:
                      - { name: app, image: web:1, cpu: 2048, memory: 4096,
                          healthCheck: { startPeriod: 10s, interval: 5s, healthyThreshold: 2 } }
                services:
                  - { name: web, taskDefinition: web, desiredCount: 6, capacityProvider: mi }
        timeline:
          - { at: 6h, failZone: { account: t1, cluster: c1, zone: b, for: 6h } }
          - { at: 1d, drainInstance: { account: t1, cluster: c1, instance: any } }
        """;

    [Fact]
    public async Task A_zone_failure_moves_tasks_to_the_other_zones_and_rebalancing_brings_them_back()
    {
        var scenario = TestScenarios.Parse(ZoneFailure);
        var (_, _, events) = await Harness.RunAsync(scenario);
        int[] ZonesAt(long t)
        {
            var zones = new Dictionary<string, string>();
            foreach (var e in events.Where(e => e.Kind == EventKinds.Task && e.TimeMs <= t))
            {
                if (e.State == TaskStates.Running && e.Health == TaskHealth.Healthy)
                {
                    zones[e.Task!] = e.Zone!;
                }
                else if (e.State is TaskStates.Deactivating or TaskStates.Stopped)
                {
                    zones.Remove(e.Task!);
                }
            }
            return new[] { "a", "b", "c" }.Select(z => zones.Values.Count(v => v == z)).ToArray();
        }
        Assert.Equal([2, 2, 2], ZonesAt(6 * 3_600_000 - 1000));
        // Zone b's hosts are lost with their tasks; replacements run in a and c.
        Assert.Contains(events, e => e.Kind == EventKinds.Instance && e.Reason == DrainReasons.ZoneFailure && e.State == InstanceStates.Terminated);
        var during = ZonesAt(12 * 3_600_000 - 1000);
        Assert.Equal(0, during[1]);
        Assert.Equal(6, during.Sum());
        // After recovery, rebalancing moves tasks back, start before stop.
        Assert.Equal([2, 2, 2], ZonesAt(20 * 3_600_000));
        Assert.Contains(events, e => e.Kind == EventKinds.Task && e.Reason == StopReasons.Rebalancing);
        // The manual drain on day 1 replaced the oldest host's tasks without losing health.
        Assert.Contains(events, e => e.Kind == EventKinds.Instance && e.Reason == DrainReasons.Manual && e.State == InstanceStates.Terminated);
        Assert.Equal(6, ZonesAt(2 * Day).Sum());
    }
}
