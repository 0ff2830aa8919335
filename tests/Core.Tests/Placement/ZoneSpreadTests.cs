using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;

namespace Scheduler.Core.Tests.Placement;

/// <summary>The zone spread through drains (doomed tasks count out of their zone) and over the zones a service may use.</summary>
public sealed class ZoneSpreadTests
{
    private static readonly string[] Zones = ["a", "b", "c"];

    /// <summary>A settled service: tasks per zone on two hosts per zone ("i-a0", "i-a1", ...), all RUNNING.</summary>
    private static ServiceModel Service(int[] perZone, IEnumerable<string> draining)
    {
        var model = new ServiceModel { Name = "web", TaskDefinition = "web:1", DesiredCount = perZone.Sum() };
        var n = 0;
        for (var z = 0; z < Zones.Length; z++)
        {
            for (var k = 0; k < perZone[z]; k++)
            {
                model.Tasks[$"web-{n++:D5}"] = new ServiceTask { State = TaskStates.Running, Zone = Zones[z], Instance = $"i-{Zones[z]}{k % 2}" };
            }
        }
        model.NextTaskNumber = n + 1;
        model.UpdateFleet(draining, Zones, rebalancing: false);
        return model;
    }

    private static InstanceSnapshot Host(string id, string zone) => new()
    {
        Id = id, Zone = zone, CapacityProvider = "mi", Type = InstanceTypeCatalog.Default.Find("m6i.8xlarge")!, Active = true,
        Free = new Resources(32 * 1024, 128 * 1024, 0), Groups = ["web"],
    };

    [Fact]
    public void Tasks_on_a_draining_host_count_out_of_their_zone()
    {
        var model = Service([3, 3, 3], ["i-a0"]);
        var doomed = model.DoomedZoneCounts()!;
        Assert.Equal(new SortedDictionary<string, int> { ["a"] = 2 }, doomed);
        var counts = ZoneSpread.WithoutDoomed(new Dictionary<string, int[]> { ["web"] = [3, 3, 3] }, new Dictionary<string, SortedDictionary<string, int>> { ["web"] = doomed }, Zones);
        Assert.Equal([1, 3, 3], counts["web"]);
        Assert.Null(Service([3, 3, 3], []).DoomedZoneCounts());
    }

    [Fact]
    public void Replacements_keep_the_zones_within_one_once_the_drained_tasks_are_gone()
    {
        var gen = Gen.Select(Gen.Int[0, 12], Gen.Int[0, 2].Array[3], Gen.Bool.Array[6]);
        gen.Sample((baseCount, extra, drains) =>
        {
            // A quiet moment: zone counts within one of each other. Some hosts then drain.
            var perZone = extra.Select(e => baseCount + Math.Min(e, 1)).ToArray();
            var hosts = Zones.SelectMany(z => new[] { $"i-{z}0", $"i-{z}1" }).ToArray();
            var draining = hosts.Where((_, k) => drains[k]).ToList();
            var model = Service(perZone, draining);
            var decision = model.Reconcile(int.MaxValue);
            var pending = decision.Start.Select(id => new PendingTask { TaskId = id, Group = "web", CapacityProvider = "mi", Need = new Resources(256, 512, 0) }).ToList();
            var doomed = model.DoomedZoneCounts() is { } d ? new Dictionary<string, SortedDictionary<string, int>> { ["web"] = d } : [];
            var options = new PlacementOptions
            {
                Zones = Zones,
                CapacityProviders = new Dictionary<string, CapacityProviderPlacement>
                {
                    ["mi"] = new() { Name = "mi", AllowedTypes = InstanceTypeCatalog.Default.Select(null), RemainingInstances = 100 },
                },
                GroupZoneCounts = ZoneSpread.WithoutDoomed(new Dictionary<string, int[]> { ["web"] = perZone }, doomed, Zones),
            };
            var live = hosts.Except(draining).Select(h => Host(h, h[2..3])).ToList();
            var plan = PlacementEngine.Place(live, pending, options);
            Assert.Empty(plan.Unplaced);

            var zoneOf = live.ToDictionary(h => h.Id, h => h.Zone);
            foreach (var n in plan.NewInstances)
            {
                zoneOf[n.Id] = n.Zone;
            }
            // After the old tasks stop: the fresh ones plus their replacements.
            var after = Zones.Select(z => model.Tasks.Values.Count(t => t.Zone == z && !model.IsOld(t))
                + plan.Assignments.Count(a => zoneOf[a.InstanceId] == z)).ToArray();
            Assert.Equal(perZone.Sum(), after.Sum());
            Assert.True(after.Max() - after.Min() <= 1, $"{string.Join("/", perZone)} with {string.Join(",", draining)} draining ends {string.Join("/", after)}");
        }, iter: 300);
    }

    [Theory]
    [InlineData("attribute:ecs.availability-zone == a", "a")]
    [InlineData("attribute:ecs.availability-zone in [a, c]", "a,c")]
    [InlineData("attribute:ecs.availability-zone != b and attribute:ecs.instance-family == m", "a,c")]
    [InlineData("attribute:ecs.instance-type =~ m5.*", "a,b,c")]
    [InlineData("attribute:ecs.availability-zone == a or attribute:ecs.instance-family == c", "a,b,c")]
    public void A_memberOf_limits_the_zones_a_service_is_spread_over(string expression, string zones)
    {
        Assert.Equal(zones.Split(','), MemberOfExpression.UsableZones(expression, Zones));
        Assert.Equal(Zones, MemberOfExpression.UsableZones(null, Zones));
    }

    [Fact]
    public void A_zone_is_usable_when_some_instance_type_there_satisfies_the_expression_and_only_then_for_zone_terms()
    {
        var types = InstanceTypeCatalog.Default.Select(null);
        var term = Gen.OneOf(
            Gen.Int[0, 2].Select(z => $"attribute:ecs.availability-zone == {Zones[z]}"),
            Gen.Int[0, 2].Select(z => $"attribute:ecs.availability-zone != {Zones[z]}"),
            Gen.Int[0, 2].Select(f => $"attribute:ecs.instance-family == {"cmr"[f]}"));
        var conjunction = term.Array[1, 3].Select(ts => string.Join(" and ", ts));
        conjunction.Array[1, 3].Select(cs => string.Join(" or ", cs)).Sample(text =>
        {
            var e = MemberOfExpression.Parse(text);
            foreach (var zone in Zones)
            {
                var some = types.Any(t => e.Matches(a => MemberOfExpression.BuiltInAttribute(a, t.Name, t.Family, zone)));
                // Never rules out a zone that can be used; exact when the expression says nothing but zones (other
                // terms are taken as satisfiable somewhere, so contradictory ones are not seen through).
                Assert.True(!some || e.AllowsZone(zone), $"'{text}' rules out zone {zone}");
                if (!text.Contains("instance-family", StringComparison.Ordinal))
                {
                    Assert.Equal(some, e.AllowsZone(zone));
                }
            }
        }, iter: 300);
    }

    [Fact]
    public void A_pinned_service_is_never_rebalanced_when_told_its_usable_zones()
    {
        // Four tasks all in zone a, the only zone the service may use: nothing to even out.
        var model = new ServiceModel { Name = "web", TaskDefinition = "web:1", DesiredCount = 4 };
        for (var k = 0; k < 4; k++)
        {
            model.Tasks[$"web-{k:D5}"] = new ServiceTask { State = TaskStates.Running, Zone = "a", Instance = "i-a0" };
        }
        model.UpdateFleet([], MemberOfExpression.UsableZones("attribute:ecs.availability-zone == a", Zones), rebalancing: true);
        var decision = model.Reconcile(int.MaxValue);
        Assert.Empty(decision.Start);
        Assert.DoesNotContain(model.Tasks.Values, t => t.Replace);
    }
}
