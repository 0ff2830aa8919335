using Scheduler.Core.Engine;
using Scheduler.Core.Placement.Sharding;
using Scheduler.Core.Scenarios;

namespace Scheduler.Grains.Tests;

/// <summary>
/// Sharded placement through the grains: K placement schedulers per cluster, their plans committed in shard order,
/// so the log is the same on one silo and on three in every mode.
/// </summary>
public sealed class ShardedPlacementRunTests
{
    /// <summary>The bundled study, shortened to 25 simulated minutes (its arrivals after that fall outside the run).</summary>
    private static Scenario Study(ShardingSpec spec)
    {
        var study = TestScenarios.Load("scenarios/sharding-study.yaml");
        return study with
        {
            Duration = TimeSpan.FromMinutes(25),
            Timeline = study.Timeline.Where(e => e.At < TimeSpan.FromMinutes(25)).ToList(),
            Accounts = study.Accounts.Select(a => a with { Clusters = a.Clusters.Select(c => c with { Placement = spec }).ToList() }).ToList(),
        };
    }

    private static readonly ShardingSpec[] Modes =
    [
        new() { Shards = 3, Mode = ShardingMode.Partitioned, DecisionTimeMs = 1000 },
        new() { Shards = 4, Mode = ShardingMode.SharedState, Conflict = ConflictDetection.Fine, DecisionTimeMs = 10_000 },
        new() { Shards = 4, Mode = ShardingMode.SharedState, Conflict = ConflictDetection.Coarse, DecisionTimeMs = 3000 },
    ];

    [Fact]
    public async Task Every_mode_gives_the_same_log_on_one_silo_and_on_three()
    {
        var single = new List<(string Log, List<SimEvent> Events)>();
        await using (var one = await TestClusters.StartAsync(1))
        {
            foreach (var (spec, k) in Modes.Select((s, k) => (s, k)))
            {
                var run = await TestClusters.RunAsync(one.Client, Study(spec), $"shard-one-{k}");
                single.Add((run.Log, run.Events));
            }
        }
        await using (var three = await TestClusters.StartAsync(3))
        {
            foreach (var (spec, k) in Modes.Select((s, k) => (s, k)))
            {
                Assert.Equal(single[k].Log, (await TestClusters.RunAsync(three.Client, Study(spec), $"shard-three-{k}")).Log);
            }
        }

        var (partitioned, fine, coarse) = (single[0].Events, single[1].Events, single[2].Events);
        Assert.DoesNotContain(partitioned, e => e.Kind == EventKinds.Conflict);
        Assert.Contains(fine, e => e.Kind == EventKinds.Conflict);
        Assert.Contains(coarse, e => e.Kind == EventKinds.Conflict);
        foreach (var (events, spec) in single.Select((s, k) => (s.Events, Modes[k])))
        {
            // Placement events name the shard that placed; every shard of the cluster placed some tasks.
            var placements = events.Where(e => e.Kind == EventKinds.Placement).ToList();
            Assert.All(placements, e => Assert.InRange(e.Shard ?? -1, 0, spec.Shards - 1));
            Assert.Equal(spec.Shards, placements.Where(e => e.Placed > 0).Select(e => e.Shard).Distinct().Count());
            // No task is ever put on two instances, and none is lost for want of a place.
            Assert.All(events.Where(e => e.Kind == EventKinds.Task && e.Instance is not null).GroupBy(e => e.Task),
                g => Assert.Single(g.Select(e => e.Instance).Distinct()));
            Assert.DoesNotContain(events, e => e.Kind == EventKinds.Task && e.Reason?.StartsWith(StopReasons.Unplaceable, StringComparison.Ordinal) == true);
        }
        // Conflicting tasks are retried and end up running: every task created before the last 10 minutes ran.
        var created = coarse.Where(e => e.Kind == EventKinds.Task && e.State == TaskStates.Provisioning && e.TimeMs < 15 * 60_000).Select(e => e.Task).ToHashSet();
        var ran = coarse.Where(e => e.Kind == EventKinds.Task && e.State == TaskStates.Running).Select(e => e.Task).ToHashSet();
        Assert.Subset(ran, created);
    }

    [Fact]
    public async Task An_explicit_single_monolithic_scheduler_gives_the_log_of_a_cluster_without_the_field()
    {
        var quickstart = TestScenarios.Load("scenarios/quickstart.yaml");
        var explicitOne = quickstart with
        {
            Accounts = quickstart.Accounts.Select(a => a with
            {
                Clusters = a.Clusters.Select(c => c with { Placement = new ShardingSpec { Shards = 1, Mode = ShardingMode.Monolithic } }).ToList(),
            }).ToList(),
        };
        await using var cluster = await TestClusters.StartAsync(1);
        var plain = await TestClusters.RunAsync(cluster.Client, quickstart, "mono-plain");
        var withField = await TestClusters.RunAsync(cluster.Client, explicitOne, "mono-field");
        Assert.Equal(plain.Log, withField.Log);
        Assert.DoesNotContain("\"shard\"", plain.Log);
    }
}
