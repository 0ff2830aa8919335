using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Placement;
using Scheduler.Core.Placement.Sharding;

namespace Scheduler.Core.Tests.Placement;

/// <summary>Invariants of sharded placement over random clusters, run for a few ticks in a row, and small worked examples.</summary>
public class ShardedPlacementTests
{
    private const long TickMs = 1000;

    private static Gen<T> Of<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(k => values[k]);

    public sealed record ShardCase(PlacementPropertyTests.Case Cluster, ShardingSpec Spec, int Ticks)
    {
        public override string ToString() => $"{Cluster}; {Spec}; {Ticks} ticks";
    }

    private static readonly Gen<ShardingSpec> Specs =
        from shards in Gen.Int[1, 6]
        from mode in Of(ShardingMode.Partitioned, ShardingMode.SharedState)
        from conflict in Of(ConflictDetection.Fine, ConflictDetection.Coarse)
        from decision in Of(0L, 400L, 1000L, 2500L)
        select new ShardingSpec { Shards = shards, Mode = mode, Conflict = conflict, DecisionTimeMs = decision };

    private static readonly Gen<ShardCase> Cases =
        from c in PlacementPropertyTests.Cases
        from spec in Specs
        from ticks in Gen.Int[1, 4]
        select new ShardCase(c, spec, ticks);

    /// <summary>One tick as the harness saw it: its input and the result.</summary>
    private sealed record Tick(long NowMs, List<InstanceSnapshot> Instances, List<PendingTask> Pending, PlacementOptions Options,
        ShardingState State, long NextNumber, ShardedPlacementResult Result);

    /// <summary>
    /// Runs <see cref="ShardCase.Ticks"/> ticks: each tick's plan is taken into the view (as the placement grain does),
    /// what was not placed for now stays pending, and new instances count against the provider.
    /// </summary>
    private static List<Tick> Run(ShardCase c, ShardingSpec? spec = null)
    {
        spec ??= c.Spec;
        var instances = c.Cluster.Instances.ToList();
        var pending = c.Cluster.Pending.ToList();
        var options = c.Cluster.Options;
        var state = ShardingState.Empty;
        var next = 1000L;
        var ticks = new List<Tick>();
        for (var k = 0; k < c.Ticks && pending.Count > 0; k++)
        {
            var now = k * TickMs;
            var result = ShardedPlacement.Place(instances, pending, options, spec, state, now, TickMs, next);
            ticks.Add(new Tick(now, instances, pending, options, state, next, result));
            var view = instances.ToDictionary(i => i.Id, StringComparer.Ordinal);
            foreach (var n in result.Plan.NewInstances)
            {
                view[n.Id] = new InstanceSnapshot
                {
                    Id = n.Id, Zone = n.Zone, CapacityProvider = n.CapacityProvider, Type = n.Type, Active = false, Launching = true,
                    Free = new Resources(n.Type.CpuUnits, n.Type.MemoryMiB, n.Type.Gpus),
                };
            }
            var tasks = pending.ToDictionary(p => p.TaskId, StringComparer.Ordinal);
            foreach (var a in result.Plan.Assignments)
            {
                view[a.InstanceId] = ShardedRound.Take(view[a.InstanceId], tasks[a.TaskId]);
            }
            instances = view.Values.OrderBy(i => i.Id, StringComparer.Ordinal).ToList();
            var waiting = result.Plan.Unplaced.Where(u => !u.Permanent).Select(u => u.TaskId).ToHashSet(StringComparer.Ordinal);
            pending = pending.Where(p => waiting.Contains(p.TaskId)).ToList();
            options = options with
            {
                CapacityProviders = options.CapacityProviders.ToDictionary(kv => kv.Key,
                    kv => kv.Value with { RemainingInstances = Math.Max(0, kv.Value.RemainingInstances - result.Plan.NewInstances.Count(n => n.CapacityProvider == kv.Key)) }),
            };
            state = result.Next;
            next += result.Plan.NewInstances.Count;
        }
        return ticks;
    }

    [Fact]
    public void No_instance_is_over_committed_after_the_commits()
    {
        Cases.Sample(c =>
        {
            foreach (var tick in Run(c))
            {
                var tasks = tick.Pending.ToDictionary(p => p.TaskId);
                var now = tick.Instances.ToDictionary(i => i.Id, i => (i.Free, Ports: new HashSet<int>(i.UsedHostPorts), Groups: new HashSet<string>(i.Groups)));
                foreach (var n in tick.Result.Plan.NewInstances)
                {
                    Assert.DoesNotContain(n.Id, (IDictionary<string, (Resources, HashSet<int>, HashSet<string>)>)now);
                    now[n.Id] = (new Resources(n.Type.CpuUnits, n.Type.MemoryMiB, n.Type.Gpus), [], []);
                }
                foreach (var a in tick.Result.Plan.Assignments)
                {
                    var t = tasks[a.TaskId];
                    var (free, ports, groups) = now[a.InstanceId];
                    Assert.True((free - t.Need).IsNonNegative, $"{a.InstanceId} over-committed by {a.TaskId} at {tick.NowMs}");
                    Assert.All(t.HostPorts, p => Assert.True(ports.Add(p), $"port {p} twice on {a.InstanceId}"));
                    Assert.False(t.DistinctInstance && groups.Contains(t.Group), $"distinctInstance of {t.Group} broken on {a.InstanceId}");
                    groups.Add(t.Group);
                    now[a.InstanceId] = (free - t.Need, ports, groups);
                }
                foreach (var (provider, cp) in tick.Options.CapacityProviders)
                {
                    Assert.True(tick.Result.Plan.NewInstances.Count(n => n.CapacityProvider == provider) <= cp.RemainingInstances,
                        $"{provider} launched past its maximum");
                }
            }
        }, iter: 300);
    }

    [Fact]
    public void Every_task_is_placed_at_most_once_and_accounted_for_exactly_once()
    {
        Cases.Sample(c =>
        {
            var placed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var tick in Run(c))
            {
                var plan = tick.Result.Plan;
                var seen = plan.Assignments.Select(a => a.TaskId).Concat(plan.Unplaced.Select(u => u.TaskId)).Order(StringComparer.Ordinal);
                Assert.Equal(tick.Pending.Select(p => p.TaskId).Order(StringComparer.Ordinal), seen);
                Assert.All(plan.Assignments, a => Assert.True(placed.Add(a.TaskId), $"{a.TaskId} placed twice"));
                var conflicts = tick.Result.Shards.SelectMany(s => s.Conflicts).Select(x => x.TaskId).ToList();
                Assert.Equal(conflicts.Count, conflicts.Distinct().Count());
                Assert.All(conflicts, id => Assert.Contains(plan.Unplaced, u => u.TaskId == id && !u.Permanent));
                // A task belongs to one shard: the one its group hashes to.
                foreach (var s in tick.Result.Shards)
                {
                    Assert.All(s.Committed.Assignments, a => Assert.Equal(s.Shard, ShardedRound.ShardOf(tick.Pending.First(p => p.TaskId == a.TaskId).Group, c.Spec.Shards)));
                }
            }
        }, iter: 300);
    }

    [Fact]
    public void Partitioned_schedulers_never_conflict_and_keep_to_their_own_instances()
    {
        Cases.Select(c => c with { Spec = c.Spec with { Mode = ShardingMode.Partitioned } }).Sample(c =>
        {
            foreach (var tick in Run(c))
            {
                Assert.All(tick.Result.Shards, s => Assert.Empty(s.Conflicts));
                // Every instance has an owner after the tick (the new ones: the shard that launched them), and each
                // shard placed only on its own.
                var owners = tick.Result.Next.Owners.ToDictionary(o => o.InstanceId, o => o.Shard);
                Assert.Equal(tick.Instances.Select(i => i.Id).Concat(tick.Result.Plan.NewInstances.Select(n => n.Id)).Order(StringComparer.Ordinal),
                    owners.Keys.Order(StringComparer.Ordinal));
                foreach (var s in tick.Result.Shards)
                {
                    Assert.All(s.Committed.NewInstances, n => Assert.Equal(s.Shard, owners[n.Id]));
                    Assert.All(s.Committed.Assignments, a => Assert.Equal(s.Shard, owners[a.InstanceId]));
                }
            }
            // The cluster's first instances are dealt out per zone: no shard has two more than another in a zone.
            var first = Run(c).FirstOrDefault()?.Result.Next.Owners.ToDictionary(o => o.InstanceId, o => o.Shard);
            if (first is not null)
            {
                foreach (var zone in c.Cluster.Instances.GroupBy(i => i.Zone))
                {
                    var counts = Enumerable.Range(0, c.Spec.Shards).Select(k => zone.Count(i => first[i.Id] == k)).ToList();
                    Assert.True(counts.Max() - counts.Min() <= 1, $"zone {zone.Key}: {string.Join(",", counts)}");
                }
            }
        }, iter: 300);
    }

    [Fact]
    public void One_scheduler_in_any_mode_gives_exactly_the_engine_plan()
    {
        PlacementPropertyTests.Cases.Select(Of(ShardingMode.Monolithic, ShardingMode.Partitioned, ShardingMode.SharedState),
            Of(ConflictDetection.Fine, ConflictDetection.Coarse)).Sample((c, mode, conflict) =>
        {
            var spec = new ShardingSpec { Shards = 1, Mode = mode, Conflict = conflict };
            var sharded = ShardedPlacement.Place(c.Instances, c.Pending, c.Options, spec, ShardingState.Empty, 7 * TickMs, TickMs, 42);
            var engine = PlacementEngine.Place(c.Instances, c.Pending, c.Options);
            // The engine names new instances by position; the round gives them the cluster's ids in the same order.
            var ids = engine.NewInstances.Select((n, k) => (n.Id, New: $"i-{42 + k:D5}")).ToDictionary(x => x.Id, x => x.New);
            Assert.Equal(engine.NewInstances.Select(n => n with { Id = ids[n.Id] }), sharded.Plan.NewInstances);
            Assert.Equal(engine.Assignments.Select(a => a.NewInstance ? a with { InstanceId = ids[a.InstanceId] } : a), sharded.Plan.Assignments);
            Assert.Equal(engine.Unplaced, sharded.Plan.Unplaced);
            Assert.Empty(sharded.Shards.Single().Conflicts);
        }, iter: 300);
    }

    [Fact]
    public void Fine_detection_never_counts_more_conflicts_than_coarse_on_the_same_input()
    {
        Cases.Select(c => c with { Spec = c.Spec with { Mode = ShardingMode.SharedState } }).Sample(c =>
        {
            foreach (var tick in Run(c))
            {
                int Conflicts(ConflictDetection d) => ShardedPlacement.Place(tick.Instances, tick.Pending, tick.Options,
                    c.Spec with { Conflict = d }, tick.State, tick.NowMs, TickMs, tick.NextNumber).Shards.Sum(s => s.Conflicts.Count);
                Assert.True(Conflicts(ConflictDetection.Fine) <= Conflicts(ConflictDetection.Coarse));
            }
        }, iter: 300);
    }

    [Fact]
    public void Without_decision_time_shared_state_schedulers_see_each_others_commits_and_never_conflict()
    {
        Cases.Select(c => c with { Spec = c.Spec with { Mode = ShardingMode.SharedState, DecisionTimeMs = 0 } }).Sample(c =>
        {
            Assert.All(Run(c), tick => Assert.All(tick.Result.Shards, s => Assert.Empty(s.Conflicts)));
        }, iter: 200);
    }

    // ---------------------------------------------------------------- worked examples

    private static readonly InstanceType Large = InstanceTypeCatalog.Default.Find("m6i.xlarge")!; // 4 vCPU, 16 GiB

    /// <summary>Two group names that hash to shards 0 and 1 of two.</summary>
    private static (string First, string Second) TwoGroups()
    {
        var names = Enumerable.Range(0, 100).Select(k => $"svc-{k}").ToList();
        return (names.First(n => ShardedRound.ShardOf(n, 2) == 0), names.First(n => ShardedRound.ShardOf(n, 2) == 1));
    }

    private static InstanceSnapshot Host(string id, Resources free) => new()
    {
        Id = id, Zone = "a", CapacityProvider = "mi", Type = Large, Active = true, Free = free,
    };

    private static PendingTask Task(string id, string group, int cpu) => new()
    {
        TaskId = id, Group = group, CapacityProvider = "mi", Need = new Resources(cpu, 1024, 0),
    };

    private static PlacementOptions Options(int remaining) => new()
    {
        Zones = ["a"],
        CapacityProviders = new Dictionary<string, CapacityProviderPlacement>
        {
            ["mi"] = new() { Name = "mi", AllowedTypes = [Large], RemainingInstances = remaining },
        },
    };

    [Fact]
    public void Two_schedulers_on_a_stale_snapshot_claim_the_same_room_and_the_later_shard_conflicts_then_retries()
    {
        var (g0, g1) = TwoGroups();
        // Room for one 3-vCPU task only; each scheduler wants one.
        List<InstanceSnapshot> hosts = [Host("i-1", new Resources(3072, 8192, 0))];
        List<PendingTask> pending = [Task("t-b", g1, 3072), Task("t-a", g0, 3072)];
        var spec = new ShardingSpec { Shards = 2, Mode = ShardingMode.SharedState, DecisionTimeMs = 1000 };
        var first = ShardedPlacement.Place(hosts, pending, Options(0), spec, ShardingState.Empty, 0, TickMs, 1);

        Assert.Equal([0, 1], first.Shards.Select(s => s.Shard));
        Assert.Equal("i-1", Assert.Single(first.Shards[0].Committed.Assignments).InstanceId);
        var conflict = Assert.Single(first.Shards[1].Conflicts);
        Assert.Equal(new PlacementConflict(1, "t-b", "i-1", ShardedRound.ConflictNoLongerFits), conflict);
        Assert.Equal(["t-b"], first.Next.Conflicted);
        Assert.Contains(first.Plan.Unplaced, u => u.TaskId == "t-b" && !u.Permanent);

        // The next tick, t-b is tried again (a retry) and there is still no room.
        var after = new List<InstanceSnapshot> { ShardedRound.Take(hosts[0], pending[1]) };
        var second = ShardedPlacement.Place(after, [pending[0]], Options(0), spec, first.Next, TickMs, TickMs, 1);
        Assert.Equal(1, second.Shards[1].Retries);
        Assert.Empty(second.Shards[1].Conflicts);
        Assert.Empty(second.Next.Conflicted);
    }

    [Fact]
    public void Coarse_detection_refuses_a_claim_that_still_fits_on_an_instance_another_shard_changed()
    {
        var (g0, g1) = TwoGroups();
        List<InstanceSnapshot> hosts = [Host("i-1", new Resources(4096, 16384, 0))];
        List<PendingTask> pending = [Task("t-a", g0, 1024), Task("t-b", g1, 1024)];
        var fine = new ShardingSpec { Shards = 2, Mode = ShardingMode.SharedState, DecisionTimeMs = 500 };
        var coarse = fine with { Conflict = ConflictDetection.Coarse };

        Assert.Equal(2, ShardedPlacement.Place(hosts, pending, Options(0), fine, ShardingState.Empty, 0, TickMs, 1).Plan.Assignments.Count);
        var refused = ShardedPlacement.Place(hosts, pending, Options(0), coarse, ShardingState.Empty, 0, TickMs, 1);
        Assert.Equal(new PlacementConflict(1, "t-b", "i-1", ShardedRound.ConflictChanged), Assert.Single(refused.Shards[1].Conflicts));
    }

    [Fact]
    public void A_long_decision_makes_schedulers_take_turns_and_miss_claims_of_earlier_ticks()
    {
        var (g0, g1) = TwoGroups();
        var spec = new ShardingSpec { Shards = 2, Mode = ShardingMode.SharedState, DecisionTimeMs = 2000 };
        List<InstanceSnapshot> hosts = [Host("i-1", new Resources(3072, 8192, 0))];
        List<PendingTask> pending = [Task("t-a", g0, 3072), Task("t-b", g1, 3072)];

        // Tick 0: only shard 0 decides (period 2); shard 1's task waits.
        var t0 = ShardedPlacement.Place(hosts, pending, Options(0), spec, ShardingState.Empty, 0, TickMs, 1);
        Assert.Equal([true, false], t0.Shards.Select(s => s.Decided));
        Assert.Contains(t0.Plan.Unplaced, u => u.TaskId == "t-b" && u.Reason == ShardedRound.WhyBusy);
        // Tick 1: shard 1's snapshot is 2 s old, so it does not see shard 0's claim and conflicts.
        var t1 = ShardedPlacement.Place([ShardedRound.Take(hosts[0], pending[0])], [pending[1]], Options(0), spec, t0.Next, TickMs, TickMs, 1);
        Assert.Equal(ShardedRound.ConflictNoLongerFits, Assert.Single(t1.Shards[1].Conflicts).Reason);
    }

    [Fact]
    public void A_partitioned_task_waits_although_another_shard_has_room()
    {
        var (_, g1) = TwoGroups();
        // The only instance goes to shard 0 (the fewest in its zone, lowest number first).
        List<InstanceSnapshot> hosts = [Host("i-00001", new Resources(4096, 16384, 0))];
        var spec = new ShardingSpec { Shards = 2, Mode = ShardingMode.Partitioned };
        var result = ShardedPlacement.Place(hosts, [Task("t-b", g1, 1024)], Options(0), spec, ShardingState.Empty, 0, TickMs, 1);

        Assert.Empty(result.Plan.Assignments);
        Assert.Contains(result.Plan.Unplaced, u => u.TaskId == "t-b" && !u.Permanent);
        // With capacity to launch, shard 1 opens its own instance instead, and owns it from then on.
        var launched = ShardedPlacement.Place(hosts, [Task("t-b", g1, 1024)], Options(4), spec, ShardingState.Empty, 0, TickMs, 2);
        var n = Assert.Single(launched.Plan.NewInstances);
        Assert.Equal([new InstanceOwner("i-00001", 0), new InstanceOwner(n.Id, 1)], launched.Next.Owners);
    }

    [Fact]
    public void The_clusters_groups_are_dealt_out_to_the_shards_in_name_order()
    {
        List<string> groups = ["web", "family:job-b", "family:job-a", "api"];
        List<PendingTask> pending = [.. groups.Select((g, k) => Task($"t-{k}", g, 256))];
        List<InstanceSnapshot> hosts = [Host("i-00001", new Resources(4096, 16384, 0))];
        var spec = new ShardingSpec { Shards = 3, Mode = ShardingMode.SharedState };
        var result = ShardedPlacement.Place(hosts, pending, Options(0), spec, ShardingState.Empty, 0, TickMs, 1, groups: groups);
        // In name order: api, family:job-a, family:job-b, web -> shards 0, 1, 2, 0.
        Assert.Equal([2, 1, 1], result.Shards.Select(s => s.Pending));
        Assert.Equal(["t-0", "t-3"], result.Shards[0].Committed.Assignments.Select(a => a.TaskId).Order());
        Assert.Equal(["t-2"], result.Shards[1].Committed.Assignments.Select(a => a.TaskId));
    }
}
