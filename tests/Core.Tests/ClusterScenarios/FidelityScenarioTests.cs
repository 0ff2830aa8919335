using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Tests.Cluster;

namespace Scheduler.Core.Tests.ClusterScenarios;

/// <summary>Zone spread through drains, pinned services, Spot interruptions: checked through the events.jsonl contract.</summary>
public sealed class FidelityScenarioTests
{
    private static string Scenario(string name, int desired, string? memberOf, string timeline, string extraProviders = "") => $$"""
        name: {{name}}
        seed: 11
        duration: 4h
        accounts:
          - id: t1
            clusters:
              - name: c1
                zones: [a, b, c]
                capacityProviders:
                  - { name: mi, type: MANAGED_INSTANCES, instanceRequirements: { vcpu: { min: 2, max: 2 }, families: [m] } }
        {{extraProviders}}
                taskDefinitions:
                  - family: web
                    cpu: 256
                    memory: 512
                    stopTimeout: 90s
        {{(memberOf is null ? "" : $"            placementConstraints: [ {{ type: memberOf, expression: \"{memberOf}\" }} ]")}}
                    containers:
                      - { name: app, image: web:1, cpu: 256, memory: 512,
                          healthCheck: { startPeriod: 0s, interval: 5s, healthyThreshold: 2 } }
                services:
                  - { name: web, taskDefinition: web, desiredCount: {{desired}}, capacityProvider: mi }
        timeline:
        {{timeline}}
        """;

    /// <summary>
    /// After each instant of the log: the service's live tasks per zone, and whether it was busy then (a host draining,
    /// or a task of the service still starting: its zone shows only from its first event on an instance).
    /// </summary>
    private static List<(long T, int[] Zones, bool Draining)> Moments(List<SimEvent> events, string service)
    {
        var zones = new Dictionary<string, string>();
        var starting = new HashSet<string>();
        var draining = new HashSet<string>();
        var moments = new List<(long, int[], bool)>();
        for (var k = 0; k < events.Count; k++)
        {
            var e = events[k];
            if (e.Kind == EventKinds.Task && e.Service == service)
            {
                if (e.State is TaskStates.Provisioning or TaskStates.Pending or TaskStates.Activating)
                {
                    starting.Add(e.Task!);
                }
                else
                {
                    starting.Remove(e.Task!);
                }
                if (e.State == TaskStates.Stopped)
                {
                    zones.Remove(e.Task!);
                }
                else if (e.Zone is not null)
                {
                    zones[e.Task!] = e.Zone;
                }
            }
            else if (e.Kind == EventKinds.Instance && e.State == InstanceStates.Draining)
            {
                draining.Add(e.Instance!);
            }
            else if (e.Kind == EventKinds.Instance && e.State == InstanceStates.Terminated)
            {
                draining.Remove(e.Instance!);
            }
            if (k == events.Count - 1 || events[k + 1].TimeMs != e.TimeMs)
            {
                moments.Add((e.TimeMs, new[] { "a", "b", "c" }.Select(z => zones.Values.Count(v => v == z)).ToArray(), draining.Count > 0 || starting.Count > 0));
            }
        }
        return moments;
    }

    [Fact]
    public async Task Replacements_for_a_draining_host_land_where_the_spread_holds_once_the_old_tasks_stop()
    {
        // 21 tasks, 7 per zone, one 2-vCPU host per zone; the first host drains at 1 h.
        var (_, events) = await Harness.Run(TestScenarios.Parse(Scenario("drain-spread", 21, null,
            "  - { at: 1h, drainInstance: { account: t1, cluster: c1, instance: any } }")));

        var moments = Moments(events, "web");
        Assert.Contains(moments, m => m.Draining);
        var quiet = moments.Where(m => !m.Draining && m.T > 0).ToList();
        Assert.All(quiet, m => Assert.True(m.Zones.Max() - m.Zones.Min() <= 1, $"t={m.T / 1000}s zones {string.Join("/", m.Zones)}"));
        Assert.Equal([7, 7, 7], moments[^1].Zones);
        // Nothing had to be moved afterwards.
        Assert.DoesNotContain(events, e => e.Kind == EventKinds.Task && e.Reason == StopReasons.Rebalancing);
    }

    [Fact]
    public async Task A_service_pinned_to_one_zone_is_never_rebalanced()
    {
        var (_, events) = await Harness.Run(TestScenarios.Parse(Scenario("pinned", 4, "attribute:ecs.availability-zone == a",
            "  - { at: 1h, releaseAmi: { version: \"1.21.0\" } }")));

        var tasks = events.Where(e => e.Kind == EventKinds.Task && e.Service == "web").ToList();
        Assert.NotEmpty(tasks);
        Assert.All(tasks.Where(e => e.Zone is not null), e => Assert.Equal("a", e.Zone));
        Assert.DoesNotContain(tasks, e => e.State == TaskStates.Stopped);
        Assert.Equal(4, tasks.Where(e => e.State == TaskStates.Provisioning).Select(e => e.Task).Distinct().Count());
    }

    [Fact]
    public async Task A_Spot_host_goes_two_minutes_after_its_warning_and_replacements_start_at_the_warning()
    {
        var (_, events) = await Harness.Run(TestScenarios.Parse(Scenario("spot", 3, null,
            "  - { at: 1h, interruptSpot: { account: t1, cluster: c1, instance: any } }")));

        var warning = Assert.Single(events, e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Draining);
        Assert.Equal((3_600_000L, DrainReasons.SpotInterruption), (warning.TimeMs, warning.Reason));
        var gone = Assert.Single(events, e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Terminated && e.Instance == warning.Instance);
        Assert.Equal(warning.TimeMs + HostLifecyclePolicy.SpotWarningMs, gone.TimeMs);
        // The service starts the replacement in the warning's tick, not when the old task stops.
        var replacement = events.Where(e => e.Kind == EventKinds.Task && e.State == TaskStates.Provisioning && e.TimeMs >= warning.TimeMs).ToList();
        Assert.Equal(warning.TimeMs, Assert.Single(replacement).TimeMs);
        var old = events.Single(e => e.Kind == EventKinds.Task && e.State == TaskStates.Stopped && e.Instance == warning.Instance);
        Assert.True(old.TimeMs <= gone.TimeMs);
    }

    [Fact]
    public async Task Fargate_Spot_tasks_are_interrupted_at_the_providers_rate_and_replaced()
    {
        var yaml = Scenario("fargate-spot", 10, null, "  - { at: 3h, releaseAmi: { version: \"1.21.0\" } }",
                "          - { name: spot, type: FARGATE_SPOT, spotInterruptionRate: 24 }")
            .Replace("capacityProvider: mi }", "capacityProvider: spot }");
        var (summary, events) = await Harness.Run(TestScenarios.Parse(yaml));

        var interrupted = events.Count(e => e.Kind == EventKinds.Task && e.State == TaskStates.Stopped && e.Reason == StopReasons.SpotTaskInterrupted);
        // Ten tasks at about one interruption an hour each, for four hours.
        Assert.InRange(interrupted, 15, 80);
        Assert.Equal(10 + interrupted, summary.TasksLaunched);
        var last = events.Last(e => e.Kind == EventKinds.Service && e.Service == "web");
        Assert.Equal(10, last.Desired);
        Assert.True(last.Running >= 9, $"running {last.Running}");
    }
}
