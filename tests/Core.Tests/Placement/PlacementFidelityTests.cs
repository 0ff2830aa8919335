using Scheduler.Core.Catalog;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Placement;

/// <summary>Image-cache affinity inside the zone spread, and phase 3 sizing for tasks that cannot share a host.</summary>
public class PlacementFidelityTests
{
    private static readonly InstanceTypeCatalog Catalog = InstanceTypeCatalog.Default;
    private static readonly string[] Zones = ["a", "b", "c"];

    private static PlacementOptions Options(IReadOnlyList<InstanceType> types) => new()
    {
        Zones = Zones,
        CapacityProviders = new Dictionary<string, CapacityProviderPlacement>
        {
            ["mi"] = new() { Name = "mi", AllowedTypes = types, RemainingInstances = 100 },
        },
    };

    private static PendingTask Task(string id, int cpu, long memory, int gpus = 0, int[]? hostPorts = null) => new()
    {
        TaskId = id, Group = "svc", CapacityProvider = "mi", Need = new Resources(cpu, memory, gpus), Images = ["web:1"],
        HostPorts = hostPorts ?? [],
    };

    private static InstanceSnapshot Instance(string id, string zone, bool cached, bool holdsGroup) => new()
    {
        Id = id, Zone = zone, CapacityProvider = "mi", Type = Catalog.Find("m6i.4xlarge")!, Active = true,
        Free = new Resources(8192, 32_768, 0), CachedImages = cached ? ["web:1"] : [], Groups = holdsGroup ? ["svc"] : [],
    };

    [Fact]
    public void New_same_image_tasks_go_to_the_host_of_their_zone_that_has_the_image_even_when_it_runs_the_service()
    {
        // Each zone: one host running the service (image cached, room for more), one empty host without the image.
        var instances = Zones.SelectMany(z => new[] { Instance($"i-{z}1", z, cached: true, holdsGroup: true), Instance($"i-{z}2", z, cached: false, holdsGroup: false) })
            .ToList();
        var pending = Enumerable.Range(0, 9).Select(k => Task($"t-{k}", 256, 512)).ToList();
        var plan = PlacementEngine.Place(instances, pending, Options(Catalog.Select(null)));

        Assert.Equal(9, plan.Assignments.Count);
        Assert.All(plan.Assignments, a => Assert.EndsWith("1", a.InstanceId));
        Assert.All(Zones, z => Assert.Equal(3, plan.Assignments.Count(a => a.InstanceId == $"i-{z}1")));
    }

    [Fact]
    public void The_image_never_overrides_the_zone_spread()
    {
        // Only zone a has the image; the spread still puts one task in each zone.
        var instances = new[]
        {
            Instance("i-a1", "a", cached: true, holdsGroup: true), Instance("i-b1", "b", cached: false, holdsGroup: false),
            Instance("i-c1", "c", cached: false, holdsGroup: false),
        };
        var plan = PlacementEngine.Place(instances, [Task("t-0", 256, 512), Task("t-1", 256, 512), Task("t-2", 256, 512)], Options(Catalog.Select(null)));
        Assert.Equal(["i-a1", "i-b1", "i-c1"], plan.Assignments.Select(a => a.InstanceId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Single_GPU_tasks_spread_over_the_zones_get_the_cheapest_GPU_host_that_holds_one()
    {
        var types = Catalog.Select(new InstanceRequirements { Families = ["g"], Gpus = new Range<int>(1, 8) });
        var pending = Enumerable.Range(0, 3).Select(k => Task($"gpu-{k}", 2048, 8192, gpus: 1)).ToList();
        var plan = PlacementEngine.Place([], pending, Options(types));

        Assert.Equal(3, plan.NewInstances.Count);
        Assert.All(plan.NewInstances, n => Assert.Equal("g4dn.xlarge", n.Type.Name));
    }

    [Fact]
    public void Host_port_tasks_that_cannot_share_a_host_get_small_hosts_one_each()
    {
        var types = Catalog.Select(new InstanceRequirements { Vcpu = new Range<double>(2, 64), Families = ["c", "m", "r"] });
        var pending = Enumerable.Range(0, 4).Select(k => Task($"port-{k}", 256, 512, hostPorts: [8080])).ToList();
        var plan = PlacementEngine.Place([], pending, Options(types));

        Assert.Equal(4, plan.NewInstances.Count);
        var cheapest = types.Where(t => t.CpuUnits >= 256 && t.MemoryMiB >= 512).Min(t => t.HourlyPrice);
        Assert.All(plan.NewInstances, n => Assert.Equal(cheapest, n.Type.HourlyPrice));
        Assert.All(plan.NewInstances, n => Assert.True(n.Type.Vcpu <= 2, $"{n.Type.Name} for one 0.25 vCPU task"));
    }

    [Fact]
    public void Shareable_counts_tasks_that_exclude_each_other_once()
    {
        var pending = new List<PendingTask>
        {
            Task("p-1", 1024, 1024, hostPorts: [80]), Task("p-2", 2048, 1024, hostPorts: [80]), Task("free", 512, 512),
        };
        Assert.Equal(new Resources(2048 + 512, 1024 + 512, 0), PlacementRun.Shareable(pending));
    }
}
