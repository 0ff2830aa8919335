using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Placement;

/// <summary>Invariants of the three phases over many random clusters and workloads.</summary>
public class PlacementPropertyTests
{
    private static readonly InstanceTypeCatalog Catalog = InstanceTypeCatalog.Default;
    private static readonly InstanceType[] ExistingTypes =
        new[] { "c6i.large", "m6i.xlarge", "r6i.2xlarge", "m6i.4xlarge", "c6i.8xlarge", "g5.2xlarge" }.Select(n => Catalog.Find(n)!).ToArray();
    private static readonly (int Cpu, int Mem, int Gpu)[] Sizes =
        [(256, 512, 0), (512, 1024, 0), (1024, 2048, 0), (2048, 4096, 0), (4096, 8192, 0), (256, 4096, 0), (1024, 16384, 0), (2048, 8192, 1)];

    public sealed record Case(List<InstanceSnapshot> Instances, List<PendingTask> Pending, PlacementOptions Options)
    {
        public override string ToString() =>
            $"{Instances.Count} instances in {Options.Zones.Count} zones, {Pending.Count} tasks in groups {string.Join(",", Pending.Select(p => p.Group).Distinct())}, unavailable [{string.Join(",", Options.UnavailableZones)}]";
    }

    /// <summary>Random clusters: a launching provider ("mi", with or without GPU types and a max count), a fixed one ("ec2").</summary>
    public static readonly Gen<Case> Cases =
        from zoneCount in Gen.Int[1, 4]
        from instanceSeeds in Gen.Select(Gen.Int[0, ExistingTypes.Length - 1], Gen.Int[0, 3], Gen.Int[0, 99], Gen.Int[0, 2], Gen.Int[0, 9]).List[0, 40]
        from groupSeeds in Gen.Select(Gen.Int[0, Sizes.Length - 1], Gen.Int[1, 40], Gen.Int[0, 9], Gen.Int[0, 1], Gen.Int[0, 3]).List[1, 6]
        from gpuTypes in Gen.Bool
        from maxNew in Gen.Int[0, 60]
        from failZone in Gen.Int[0, 6]
        from skew in Gen.Int[0, 3].Array[4]
        select Build(zoneCount, instanceSeeds, groupSeeds, gpuTypes, maxNew, failZone, skew);

    private static Case Build(int zoneCount, List<(int, int, int, int, int)> instanceSeeds, List<(int, int, int, int, int)> groupSeeds,
        bool gpuTypes, int maxNew, int failZone, int[] skew)
    {
        var zones = Enumerable.Range(0, zoneCount).Select(z => $"z{z}").ToArray();
        var instances = new List<InstanceSnapshot>();
        for (var k = 0; k < instanceSeeds.Count; k++)
        {
            var (typeIndex, zone, usedPercent, provider, flags) = instanceSeeds[k];
            var type = ExistingTypes[typeIndex];
            var full = new Resources(type.CpuUnits, type.MemoryMiB, type.Gpus);
            var used = new Resources(type.CpuUnits * usedPercent / 100, type.MemoryMiB * usedPercent / 100, 0);
            instances.Add(new InstanceSnapshot
            {
                Id = $"i-{k:D3}",
                Zone = zones[zone % zoneCount],
                CapacityProvider = provider == 0 ? "ec2" : "mi",
                Type = type,
                Active = flags != 0,
                Launching = flags == 0 && usedPercent % 2 == 0,
                Free = full - used,
                UsedHostPorts = flags == 1 ? [8080] : [],
                CachedImages = flags == 2 ? ["img-0", "img-1"] : [],
                Groups = flags == 3 ? ["g0"] : [],
                Attributes = new Dictionary<string, string> { ["tier"] = flags % 2 == 0 ? "gold" : "silver" },
            });
        }
        var pending = new List<PendingTask>();
        for (var g = 0; g < groupSeeds.Count; g++)
        {
            var (sizeIndex, count, constraint, provider, image) = groupSeeds[g];
            var size = Sizes[sizeIndex];
            for (var k = 0; k < count; k++)
            {
                pending.Add(new PendingTask
                {
                    TaskId = $"t{g}-{k:D2}",
                    Group = $"g{g}",
                    CapacityProvider = provider == 0 ? "ec2" : "mi",
                    Need = new Resources(size.Cpu, size.Mem, size.Gpu),
                    HostPorts = constraint == 1 ? [8080] : [],
                    DistinctInstance = constraint == 2,
                    MemberOf = constraint switch
                    {
                        3 => "attribute:ecs.instance-type =~ m*",
                        4 => "attribute:tier == gold or attribute:ecs.instance-family == c",
                        5 => $"attribute:ecs.availability-zone != {zones[0]}",
                        _ => null,
                    },
                    Images = [$"img-{image}"],
                });
            }
        }
        var miTypes = Catalog.Select(gpuTypes ? new InstanceRequirements { Families = ["c", "m", "g"], Gpus = new Range<int>(0, 4) } : null);
        var counts = new Dictionary<string, int[]>(StringComparer.Ordinal);
        for (var g = 0; g < groupSeeds.Count; g++)
        {
            counts[$"g{g}"] = skew.Take(zoneCount).Select(s => g % 2 == 0 ? s : 0).ToArray();
        }
        var options = new PlacementOptions
        {
            Zones = zones,
            CapacityProviders = new Dictionary<string, CapacityProviderPlacement>
            {
                ["mi"] = new() { Name = "mi", AllowedTypes = miTypes, RemainingInstances = maxNew },
                ["ec2"] = new() { Name = "ec2", AllowedTypes = [], RemainingInstances = 0 },
            },
            GroupZoneCounts = counts,
            UnavailableZones = failZone < zoneCount && zoneCount > 1 ? [zones[failZone]] : [],
        };
        return new Case(instances, pending, options);
    }

    private static Dictionary<string, PendingTask> ById(Case c) => c.Pending.ToDictionary(p => p.TaskId);

    [Fact]
    public void Every_task_is_placed_or_reported_exactly_once()
    {
        Cases.Sample(c =>
        {
            var plan = PlacementEngine.Place(c.Instances, c.Pending, c.Options);
            var seen = plan.Assignments.Select(a => a.TaskId).Concat(plan.Unplaced.Select(u => u.TaskId)).ToList();
            Assert.Equal(c.Pending.Select(p => p.TaskId).Order(), seen.Order());
            Assert.All(plan.Unplaced, u => Assert.False(string.IsNullOrWhiteSpace(u.Reason)));
        }, iter: 400);
    }

    [Fact]
    public void No_instance_is_ever_reserved_beyond_what_it_has()
    {
        Cases.Sample(c =>
        {
            var plan = PlacementEngine.Place(c.Instances, c.Pending, c.Options);
            var need = ById(c);
            var free = c.Instances.ToDictionary(i => i.Id, i => i.Free);
            foreach (var n in plan.NewInstances)
            {
                free[n.Id] = new Resources(n.Type.CpuUnits, n.Type.MemoryMiB, n.Type.Gpus);
            }
            foreach (var a in plan.Assignments)
            {
                free[a.InstanceId] -= need[a.TaskId].Need;
            }
            Assert.All(free, kv => Assert.True(kv.Value.IsNonNegative, $"{kv.Key} over-reserved: {kv.Value}"));
        }, iter: 400);
    }

    [Fact]
    public void Every_placement_satisfies_every_constraint()
    {
        Cases.Sample(c =>
        {
            var plan = PlacementEngine.Place(c.Instances, c.Pending, c.Options);
            var tasks = ById(c);
            var existing = c.Instances.ToDictionary(i => i.Id);
            var created = plan.NewInstances.ToDictionary(n => n.Id);
            var ports = new Dictionary<string, HashSet<int>>();
            var groups = new Dictionary<string, HashSet<string>>();
            foreach (var a in plan.Assignments)
            {
                var t = tasks[a.TaskId];
                string zone, provider, type, family;
                Func<string, string?> attribute;
                if (a.NewInstance)
                {
                    var n = created[a.InstanceId];
                    (zone, provider, type, family) = (n.Zone, n.CapacityProvider, n.Type.Name, n.Type.Family);
                    attribute = name => MemberOfExpression.BuiltInAttribute(name, n.Type.Name, n.Type.Family, n.Zone);
                    Assert.Contains(n.Type, c.Options.CapacityProviders[n.CapacityProvider].AllowedTypes);
                }
                else
                {
                    var i = existing[a.InstanceId];
                    Assert.True(i.Active || (i.Launching && a.Phase == PlacementPhase.BinPacking), $"{a.TaskId} placed on inactive {i.Id}");
                    (zone, provider, type, family) = (i.Zone, i.CapacityProvider, i.Type.Name, i.Type.Family);
                    attribute = name => i.Attributes.TryGetValue(name, out var v) ? v : MemberOfExpression.BuiltInAttribute(name, i.Type.Name, i.Type.Family, i.Zone);
                    Assert.DoesNotContain(i.UsedHostPorts, p => t.HostPorts.Contains(p));
                    Assert.False(t.DistinctInstance && i.Groups.Contains(t.Group), $"{a.TaskId} distinctInstance broken on {i.Id}");
                }
                Assert.Equal(t.CapacityProvider, provider);
                Assert.DoesNotContain(zone, c.Options.UnavailableZones);
                if (t.MemberOf is not null)
                {
                    Assert.True(MemberOfExpression.Parse(t.MemberOf).Matches(attribute), $"{a.TaskId} on {type} in {zone} breaks {t.MemberOf}");
                }
                var used = ports.TryGetValue(a.InstanceId, out var p) ? p : ports[a.InstanceId] = [];
                Assert.All(t.HostPorts, port => Assert.True(used.Add(port), $"port {port} twice on {a.InstanceId}"));
                if (t.DistinctInstance)
                {
                    var g = groups.TryGetValue(a.InstanceId, out var set) ? set : groups[a.InstanceId] = [];
                    Assert.True(g.Add(t.Group), $"two tasks of {t.Group} on {a.InstanceId}");
                }
            }
        }, iter: 400);
    }

    [Fact]
    public void A_group_stays_within_one_task_per_zone_when_capacity_allows()
    {
        // "Capacity allows": the provider can launch, nothing of the group was left unplaced, no constraint ties it to some zones.
        Cases.Sample(c =>
        {
            var plan = PlacementEngine.Place(c.Instances, c.Pending, c.Options);
            var zoneOf = c.Instances.ToDictionary(i => i.Id, i => i.Zone);
            foreach (var n in plan.NewInstances)
            {
                zoneOf[n.Id] = n.Zone;
            }
            var unplaced = plan.Unplaced.Select(u => u.TaskId).ToHashSet();
            var up = c.Options.Zones.Where(z => !c.Options.UnavailableZones.Contains(z)).ToList();
            foreach (var group in c.Pending.GroupBy(p => p.Group))
            {
                var first = group.First();
                var mi = c.Options.CapacityProviders["mi"];
                var launchable = mi.RemainingInstances > 0 && mi.AllowedTypes.Any(t => new Resources(t.CpuUnits, t.MemoryMiB, t.Gpus).Fits(first.Need));
                if (first.CapacityProvider != "mi" || !launchable || first.MemberOf is not null || group.Any(t => unplaced.Contains(t.TaskId)))
                {
                    continue;
                }
                var before = c.Options.GroupZoneCounts[group.Key];
                var after = c.Options.Zones.Select((z, k) => before[k]).ToArray();
                foreach (var a in plan.Assignments.Where(a => group.Any(t => t.TaskId == a.TaskId)))
                {
                    after[c.Options.Zones.ToList().IndexOf(zoneOf[a.InstanceId])]++;
                }
                var upIndexes = up.Select(z => c.Options.Zones.ToList().IndexOf(z)).ToList();
                var skewBefore = upIndexes.Max(k => before[k]) - upIndexes.Min(k => before[k]);
                var skewAfter = upIndexes.Max(k => after[k]) - upIndexes.Min(k => after[k]);
                Assert.True(skewAfter <= Math.Max(1, skewBefore),
                    $"{group.Key}: zone counts {string.Join("/", before)} -> {string.Join("/", after)}");
            }
        }, iter: 400);
    }

    [Fact]
    public void Bin_packing_uses_at_most_a_quarter_more_instances_than_the_resource_bound_plus_one_per_zone()
    {
        Cases.Sample(c =>
        {
            // Plain tasks only: host ports and distinctInstance force one task per host by design, and a memberOf
            // may pin tasks to a type that packs them badly.
            var plain = c.Pending.Where(p => p.HostPorts.Count == 0 && !p.DistinctInstance && p.MemberOf is null).ToList();
            var options = c.Options with
            {
                CapacityProviders = new Dictionary<string, CapacityProviderPlacement>(c.Options.CapacityProviders)
                {
                    ["mi"] = c.Options.CapacityProviders["mi"] with { RemainingInstances = 10_000 },
                },
            };
            var plan = PlacementEngine.Place(c.Instances, plain, options);
            var tasks = ById(c);
            var onNew = plan.Assignments.Where(a => a.NewInstance).Select(a => tasks[a.TaskId].Need).ToList();
            if (onNew.Count == 0)
            {
                return;
            }
            // CPU tasks stay off GPU hosts, so the two kinds pack onto disjoint sets of types and each has its own
            // resource lower bound (sum of reservations / largest type it may use) and its own partial host per zone.
            var allowed = options.CapacityProviders["mi"].AllowedTypes;
            var zones = options.Zones.Count;
            var limit = 0.0;
            foreach (var kind in onNew.GroupBy(n => n.Gpus > 0))
            {
                var types = allowed.Where(t => (t.Gpus > 0) == kind.Key).ToList();
                types = types.Count > 0 ? types : allowed.ToList();
                var sum = kind.Aggregate(default(Resources), (x, y) => x + y);
                var bound = Math.Max((double)sum.Cpu / types.Max(t => t.CpuUnits), (double)sum.MemoryMiB / types.Max(t => t.MemoryMiB));
                if (kind.Key)
                {
                    bound = Math.Max(bound, (double)sum.Gpus / types.Max(t => t.Gpus));
                }
                limit += 1.25 * bound + zones;
            }
            Assert.True(plan.NewInstances.Count <= limit,
                $"{plan.NewInstances.Count} new instances for a limit of {limit:F2} over {zones} zones: "
                + string.Join("; ", plan.NewInstances.Select(n => $"{n.Type.Name} <- " + string.Join(",",
                    plan.Assignments.Where(a => a.InstanceId == n.Id).GroupBy(a => tasks[a.TaskId].Need).Select(g => $"{g.Count()}x{g.Key.Cpu}/{g.Key.MemoryMiB}/{g.Key.Gpus}")))));
        }, iter: 400);
    }

    [Fact]
    public void The_plan_is_a_function_of_its_input()
    {
        Cases.Sample(c =>
        {
            var a = PlacementEngine.Place(c.Instances, c.Pending, c.Options);
            var b = PlacementEngine.Place(c.Instances.AsEnumerable().Reverse().ToList(), c.Pending, c.Options);
            Assert.Equal(a.Assignments, b.Assignments);
            Assert.Equal(a.NewInstances, b.NewInstances);
            Assert.Equal(a.Unplaced, b.Unplaced);
        }, iter: 200);
    }
}
