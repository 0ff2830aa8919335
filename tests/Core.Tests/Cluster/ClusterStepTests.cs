using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Cluster;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Cluster;

/// <summary>
/// The cluster step run whole through <see cref="ClusterHarness"/>: what it sends to the hosts and services, checked
/// from the commands it records and from the event log.
/// </summary>
public sealed class ClusterStepTests
{
    private static string Fleet(int hosts, int maxConcurrent, string duration, string timeline = "") => $$"""
        name: patching
        seed: 21
        duration: {{duration}}
        accounts:
          - id: t1
            clusters:
              - name: c1
                zones: [a, b, c]
                capacityProviders:
                  - { name: mi, type: MANAGED_INSTANCES,
                      instanceRequirements: { vcpu: { min: 2, max: 2 }, memoryMiB: { min: 8192, max: 8192 }, families: [m] },
                      maintenanceWindow: { day: sunday, start: "02:00", length: 6h },
                      patchCycle: { replaceInWindowAfter: 14d, replaceAnyTimeAfter: 21d, maxLifetime: 30d, maxConcurrentReplacements: {{maxConcurrent}} } }
                taskDefinitions:
                  - family: web
                    cpu: 2048
                    memory: 4096
                    containers:
                      - { name: app, image: web:1, cpu: 2048, memory: 4096,
                          healthCheck: { startPeriod: 10s, interval: 5s, healthyThreshold: 2 } }
                services:
                  - { name: web, taskDefinition: web, desiredCount: {{hosts}}, capacityProvider: mi }
        timeline:
        {{timeline}}
        """;

    [Fact]
    public async Task Only_hosts_that_are_due_are_advanced_and_no_batch_names_a_host_twice()
    {
        var harness = await ClusterHarness.RunAsync(Fleet(hosts: 9, maxConcurrent: 2, duration: "21d"));
        var due = new Dictionary<string, long>(StringComparer.Ordinal);
        var advanced = 0;
        foreach (var (command, report) in harness.Commands.Zip(harness.Reports))
        {
            if (command is AdvanceHost)
            {
                advanced++;
                Assert.True(due[command.Host] <= command.NowMs, $"{command.Host} advanced at {command.NowMs} ms, due only at {due[command.Host]} ms");
            }
            due[command.Host] = report.NextDueMs;
        }
        Assert.True(advanced > 0);
    }

    [Fact]
    public async Task Patch_grants_keep_at_most_max_concurrent_replacements_draining()
    {
        // The first maintenance window after day 14 is on day 20 (the run starts on a Monday); day 21 would replace anyway.
        var harness = await ClusterHarness.RunAsync(Fleet(hosts: 9, maxConcurrent: 2, duration: "21d"));
        var grants = harness.Commands.OfType<GrantPatchDrain>().ToList();
        Assert.NotEmpty(grants);
        var draining = new HashSet<string>(StringComparer.Ordinal);
        var peak = 0;
        foreach (var e in harness.Events.Where(e => e.Kind == EventKinds.Instance))
        {
            if (e.State == InstanceStates.Draining && e.Reason == DrainReasons.PatchDay14)
            {
                draining.Add(e.Instance!);
            }
            else if (e.State == InstanceStates.Terminated)
            {
                draining.Remove(e.Instance!);
            }
            peak = Math.Max(peak, draining.Count);
        }
        Assert.Equal(2, peak);
        // Every host of the first fleet was replaced in the window, each by a grant.
        var firstFleet = harness.Commands.OfType<LaunchHost>().Where(l => l.NowMs < 86_400_000).Select(l => l.Host).Distinct().ToList();
        Assert.All(firstFleet, id => Assert.Contains(grants, g => g.Host == id));
    }

    [Fact]
    public async Task A_zone_failure_fails_every_live_host_of_the_zone_in_one_batch_and_nothing_else()
    {
        var harness = await ClusterHarness.RunAsync(Fleet(hosts: 6, maxConcurrent: 1, duration: "1d",
            "  - { at: 6h, failZone: { account: t1, cluster: c1, zone: b, for: 2h } }"));
        var zoneOf = harness.Commands.OfType<LaunchHost>().ToDictionary(l => l.Host, l => l.Launch.Zone, StringComparer.Ordinal);
        var failures = harness.Commands.OfType<DrainHost>().Where(d => d.Cause.Kind == DrainKind.Failure).ToList();
        Assert.NotEmpty(failures);
        Assert.All(failures, d =>
        {
            Assert.Equal(6 * 3_600_000L, d.NowMs);
            Assert.Equal(DrainReasons.ZoneFailure, d.Cause.Reason);
            Assert.Equal("b", zoneOf[d.Host]);
        });
        var terminatedBefore = harness.Events.Where(e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Terminated && e.TimeMs < 6 * 3_600_000L)
            .Select(e => e.Instance).ToHashSet();
        var inZoneB = zoneOf.Where(kv => kv.Value == "b" && !terminatedBefore.Contains(kv.Key) && harness.Commands.OfType<LaunchHost>().First(l => l.Host == kv.Key).NowMs < 6 * 3_600_000L)
            .Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(inZoneB, failures.Select(d => d.Host).Order(StringComparer.Ordinal).ToList());
        // No replacement lands in the failed zone while it is down.
        Assert.DoesNotContain(harness.Commands.OfType<LaunchHost>(), l => l.Launch.Zone == "b" && l.NowMs >= 6 * 3_600_000L && l.NowMs < 8 * 3_600_000L);
    }

    [Fact]
    public void A_drain_of_any_host_picks_the_oldest_active_one_and_a_zone_failure_overrides_a_drain()
    {
        var book = new ClusterBook();
        void Host(string id, string zone, string status, long launchedAt)
        {
            book.Hosts[id] = new ContainerInstanceEntry
            {
                Zone = zone, CapacityProvider = "mi", DueMs = long.MaxValue,
                View = new HostView { Status = status, LaunchedAtMs = launchedAt, Zone = zone, CapacityProvider = "mi" },
            };
        }
        Host("i-00001", "a", InstanceStates.Terminated, 0);
        Host("i-00002", "b", InstanceStates.Active, 2_000);
        Host("i-00003", "a", InstanceStates.Active, 1_000);
        Host("i-00004", "a", InstanceStates.Launching, 500);
        var decisions = DrainPlanner.FromTimeline(book,
            [new DrainInstanceAction("t1", "c1", "any", DrainReasons.Manual), new DrainInstanceAction("t1", "c1", "any", DrainReasons.Manual),
             new DrainInstanceAction("t1", "c1", "i-00001", DrainReasons.Manual)],
            []);
        Assert.Equal([("i-00002", DrainKind.Graceful), ("i-00003", DrainKind.Graceful)], decisions.Select(d => (d.Host, d.Cause.Kind)));
        var failed = DrainPlanner.FromTimeline(book, [new DrainInstanceAction("t1", "c1", "i-00003", DrainReasons.Manual)], ["a"]);
        Assert.Equal([("i-00003", DrainReasons.ZoneFailure), ("i-00004", DrainReasons.ZoneFailure)], failed.Select(d => (d.Host, d.Cause.Reason)));
    }

    [Theory]
    [InlineData(DrainReasons.ZoneFailure, DrainKind.Failure)]
    [InlineData(DrainReasons.AgentDisconnect, DrainKind.Failure)]
    [InlineData(DrainReasons.SpotInterruption, DrainKind.Warning)]
    [InlineData(DrainReasons.Manual, DrainKind.Graceful)]
    [InlineData(DrainReasons.MaintenanceEvent, DrainKind.Graceful)]
    public void A_drain_cause_says_what_kind_of_exit_it_is(string reason, DrainKind kind) =>
        Assert.Equal(kind, DrainCause.Of(reason).Kind);

    /// <summary>
    /// Any small fleet of services on Managed Instances and EC2, with a drain and a scale change: the step gives the
    /// same log twice, and no instance ever holds more reserved CPU or memory than it has.
    /// </summary>
    [Fact]
    public void Random_fleets_are_deterministic_and_never_overcommit_an_instance()
    {
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 12], Gen.Int[0, 20], Gen.Long[1, 1000]).Sample((web, api, scaleTo, seed) =>
        {
            var yaml = $$"""
                name: random
                seed: {{seed}}
                duration: 6h
                accounts:
                  - id: t1
                    clusters:
                      - name: c1
                        capacityProviders:
                          - { name: mi, type: MANAGED_INSTANCES, instanceRequirements: { vcpu: { min: 2, max: 8 }, families: [m, c] } }
                          - { name: ec2, type: EC2, instanceTypes: [m6i.xlarge], initialInstances: 2, maxInstances: 6 }
                        taskDefinitions:
                          - family: web
                            cpu: 1024
                            memory: 2048
                            containers:
                              - { name: app, image: web:1, cpu: 1024, memory: 2048 }
                          - family: api
                            cpu: 512
                            memory: 3072
                            containers:
                              - { name: app, image: api:1, cpu: 512, memory: 3072 }
                        services:
                          - { name: web, taskDefinition: web, desiredCount: {{web}}, capacityProvider: mi }
                          - { name: api, taskDefinition: api, desiredCount: {{api}}, capacityProvider: ec2 }
                timeline:
                  - { at: 1h, drainInstance: { account: t1, cluster: c1, instance: any } }
                  - { at: 2h, updateService: { account: t1, cluster: c1, service: web, desiredCount: {{scaleTo}} } }
                """;
            var first = ClusterHarness.RunAsync(yaml).GetAwaiter().GetResult();
            var second = ClusterHarness.RunAsync(yaml).GetAwaiter().GetResult();
            Assert.Equal(first.Log(), second.Log());
            AssertNeverOvercommitted(first);
        }, iter: 25);
    }

    private static void AssertNeverOvercommitted(ClusterHarness harness)
    {
        var types = harness.Commands.OfType<LaunchHost>().GroupBy(l => l.Host).ToDictionary(g => g.Key, g => g.First().Launch.Type, StringComparer.Ordinal);
        var need = new Dictionary<string, (int Cpu, long Mem)>(StringComparer.Ordinal);
        var on = new Dictionary<string, string>(StringComparer.Ordinal);
        var used = new Dictionary<string, (int Cpu, long Mem)>(StringComparer.Ordinal);
        foreach (var e in harness.Events.Where(e => e.Kind == EventKinds.Task))
        {
            if (e.State == TaskStates.Provisioning)
            {
                need[e.Task!] = (e.Cpu, e.MemoryMiB);
            }
            if (e.Instance is { } host && !on.ContainsKey(e.Task!) && e.State != TaskStates.Stopped)
            {
                on[e.Task!] = host;
                var u = used.GetValueOrDefault(host);
                used[host] = u = (u.Cpu + need[e.Task!].Cpu, u.Mem + need[e.Task!].Mem);
                Assert.True(u.Cpu <= types[host].CpuUnits && u.Mem <= types[host].MemoryMiB, $"{host} holds {u} of {types[host].Name}");
            }
            else if (e.State == TaskStates.Stopped && on.Remove(e.Task!, out var was))
            {
                var u = used[was];
                used[was] = (u.Cpu - need[e.Task!].Cpu, u.Mem - need[e.Task!].Mem);
            }
        }
        Assert.NotEmpty(on.Keys.Concat(used.Keys));
    }
}
