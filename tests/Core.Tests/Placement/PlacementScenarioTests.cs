using Scheduler.Core.Catalog;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Placement;

public class PlacementScenarioTests
{
    private static readonly InstanceTypeCatalog Catalog = InstanceTypeCatalog.Default;
    private static readonly string[] Zones = ["a", "b", "c"];

    private static PlacementOptions Options(IReadOnlyList<InstanceType> types, int maxNew = 100, IReadOnlyDictionary<string, int[]>? counts = null) => new()
    {
        Zones = Zones,
        CapacityProviders = new Dictionary<string, CapacityProviderPlacement>
        {
            ["mi"] = new() { Name = "mi", AllowedTypes = types, RemainingInstances = maxNew },
        },
        GroupZoneCounts = counts ?? new Dictionary<string, int[]>(),
    };

    private static List<PendingTask> Tasks(string group, int count, int cpu, long memory, int gpus = 0, string? memberOf = null, string image = "web:1") =>
        Enumerable.Range(0, count).Select(k => new PendingTask
        {
            TaskId = $"{group}-{k:D3}", Group = group, CapacityProvider = "mi", Need = new Resources(cpu, memory, gpus),
            MemberOf = memberOf, Images = [image],
        }).ToList();

    private static InstanceSnapshot Instance(string id, string zone, string type, Resources? free = null, string[]? images = null) => new()
    {
        Id = id, Zone = zone, CapacityProvider = "mi", Type = Catalog.Find(type)!, Active = true,
        Free = free ?? new Resources(Catalog.Find(type)!.CpuUnits, Catalog.Find(type)!.MemoryMiB, Catalog.Find(type)!.Gpus),
        CachedImages = images ?? [],
    };

    [Fact]
    public void A_service_scaled_out_on_an_empty_provider_gets_one_instance_per_zone_sized_for_its_share()
    {
        var types = Catalog.Select(new InstanceRequirements { Vcpu = new Range<double>(2, 64), Families = ["c", "m", "r"] });
        var plan = PlacementEngine.Place([], Tasks("web", 90, 256, 512), Options(types));

        Assert.Empty(plan.Unplaced);
        Assert.Equal(3, plan.NewInstances.Count);
        Assert.Equal(Zones, plan.NewInstances.Select(n => n.Zone).Order());
        // 30 tasks of 0.25 vCPU and 512 MiB per zone: 7.5 vCPU and 15 GiB, which one host holds. The cheapest
        // such type no smaller than a quarter of the largest allowed (64 vCPU): 16 vCPU, 2 GiB per vCPU (c).
        Assert.All(plan.NewInstances, n => Assert.Equal((16, 32_768L, "c"), (n.Type.Vcpu, n.Type.MemoryMiB, n.Type.Family)));
        var perZone = plan.Assignments.GroupBy(a => plan.NewInstances.First(n => n.Id == a.InstanceId).Zone).Select(g => g.Count());
        Assert.All(perZone, n => Assert.Equal(30, n));
        Assert.Equal(3, plan.Assignments.Count(a => a.Phase == PlacementPhase.NewCapacity));
        Assert.Equal(87, plan.Assignments.Count(a => a.Phase == PlacementPhase.BinPacking));
    }

    [Fact]
    public void A_large_scale_out_ends_on_a_few_of_the_largest_instances_in_every_zone()
    {
        var types = Catalog.Select(new InstanceRequirements { Vcpu = new Range<double>(2, 64), Families = ["c", "m", "r"] });
        var plan = PlacementEngine.Place([], Tasks("web", 3_000, 256, 512), Options(types));

        Assert.Empty(plan.Unplaced);
        // 1,000 tasks per zone: 250 vCPU; the largest allowed size has 64 (c5.18xlarge, 72, is outside the range).
        Assert.All(plan.NewInstances, n => Assert.Equal(types.Max(t => t.Vcpu), n.Type.Vcpu));
        Assert.All(Zones, z => Assert.Equal(4, plan.NewInstances.Count(n => n.Zone == z)));
    }

    [Fact]
    public void Tasks_for_new_capacity_fill_an_instance_still_launching_before_another_is_opened()
    {
        var launching = Instance("i-7", "a", "c6i.4xlarge", new Resources(4096, 8192, 0)) with { Active = false, Launching = true };
        var options = Options(Catalog.Select(null)) with { Zones = ["a"] };
        var plan = PlacementEngine.Place([launching], Tasks("web", 20, 256, 512), options);

        Assert.Equal(16, plan.Assignments.Count(a => a.InstanceId == "i-7" && !a.NewInstance && a.Phase == PlacementPhase.BinPacking));
        Assert.Single(plan.NewInstances);
        Assert.Equal(4, plan.Assignments.Count(a => a.NewInstance));
    }

    [Fact]
    public void Memory_heavy_tasks_get_the_memory_optimised_family()
    {
        var plan = PlacementEngine.Place([], Tasks("cache", 12, 512, 8192), Options(Catalog.Select(null)));
        Assert.All(plan.NewInstances, n => Assert.Equal("r", n.Type.Family));
    }

    [Fact]
    public void Existing_capacity_comes_first_and_keeps_the_zones_even()
    {
        Resources Room(int tasks) => new(256 * tasks, 512 * tasks, 0);
        var instances = new[]
        {
            Instance("i-1", "a", "m6i.xlarge", Room(10)), Instance("i-2", "b", "m6i.xlarge", Room(2)), Instance("i-3", "c", "m6i.xlarge", Room(10)),
        };
        var plan = PlacementEngine.Place(instances, Tasks("web", 12, 256, 512), Options(Catalog.Select(null)));

        var existing = plan.Assignments.Where(a => !a.NewInstance).ToList();
        Assert.Equal(10, existing.Count);
        Assert.Equal(4, existing.Count(a => a.InstanceId == "i-1"));
        Assert.Equal(2, existing.Count(a => a.InstanceId == "i-2"));
        Assert.Equal(4, existing.Count(a => a.InstanceId == "i-3"));
        // Zone b is full: its other two tasks wait for a new instance there, not in a or c.
        var created = Assert.Single(plan.NewInstances);
        Assert.Equal("b", created.Zone);
        Assert.Equal(2, plan.Assignments.Count(a => a.InstanceId == created.Id));
    }

    [Fact]
    public void A_provider_that_cannot_launch_places_where_capacity_allows()
    {
        Resources Room(int tasks) => new(256 * tasks, 512 * tasks, 0);
        var instances = new[] { Instance("i-1", "a", "m6i.xlarge", Room(10)), Instance("i-2", "b", "m6i.xlarge", Room(1)) };
        var plan = PlacementEngine.Place(instances, Tasks("web", 8, 256, 512), Options([], maxNew: 0));

        Assert.Empty(plan.NewInstances);
        Assert.Equal(7, plan.Assignments.Count(a => a.InstanceId == "i-1"));
        Assert.Equal(1, plan.Assignments.Count(a => a.InstanceId == "i-2"));
    }

    [Fact]
    public void Tasks_prefer_an_instance_that_has_their_image()
    {
        var instances = new[]
        {
            Instance("i-1", "a", "m6i.4xlarge"), Instance("i-2", "a", "m6i.4xlarge", images: ["web:1"]), Instance("i-3", "a", "m6i.4xlarge"),
        };
        var options = Options(Catalog.Select(null)) with { Zones = ["a"] };
        var plan = PlacementEngine.Place(instances, Tasks("web", 1, 256, 512), options);
        Assert.Equal("i-2", Assert.Single(plan.Assignments).InstanceId);
    }

    [Fact]
    public void Within_a_zone_tasks_spread_over_instances_before_doubling_up()
    {
        var instances = Enumerable.Range(1, 4).Select(k => Instance($"i-{k}", "a", "m6i.4xlarge")).ToArray();
        var options = Options(Catalog.Select(null)) with { Zones = ["a"] };
        var plan = PlacementEngine.Place(instances, Tasks("web", 8, 256, 512), options);
        Assert.All(plan.Assignments.GroupBy(a => a.InstanceId), g => Assert.Equal(2, g.Count()));
    }

    [Fact]
    public void A_GPU_task_only_lands_on_GPU_types_and_CPU_tasks_avoid_them()
    {
        var types = Catalog.Select(new InstanceRequirements { Families = ["m", "g"], Gpus = new Range<int>(0, 8) });
        Assert.Contains(types, t => t.Gpus > 0);
        Assert.Contains(types, t => t.Gpus == 0);
        var pending = Tasks("train", 3, 4096, 16384, gpus: 1).Concat(Tasks("web", 20, 512, 1024)).ToList();
        var plan = PlacementEngine.Place([], pending, Options(types));

        Assert.Empty(plan.Unplaced);
        var typeOf = plan.NewInstances.ToDictionary(n => n.Id, n => n.Type);
        Assert.All(plan.Assignments.Where(a => a.TaskId.StartsWith("train", StringComparison.Ordinal)), a => Assert.True(typeOf[a.InstanceId].Gpus >= 1));
        Assert.Contains(plan.NewInstances, n => n.Type.Gpus == 0);
    }

    [Fact]
    public void A_task_larger_than_every_allowed_type_is_permanently_unplaceable_with_the_reason()
    {
        var types = Catalog.Select(new InstanceRequirements { Vcpu = new Range<double>(2, 8), Families = ["m"] });
        var plan = PlacementEngine.Place([], Tasks("huge", 2, 16_384, 65_536), Options(types));

        Assert.Empty(plan.Assignments);
        Assert.Empty(plan.NewInstances);
        Assert.All(plan.Unplaced, u =>
        {
            Assert.True(u.Permanent);
            Assert.Contains("larger than every instance type", u.Reason);
            Assert.Contains("largest allowed", u.Reason);
            Assert.Contains("8192 cpu units", u.Reason);
        });
    }

    [Fact]
    public void A_provider_at_its_maximum_leaves_tasks_waiting_not_lost()
    {
        var plan = PlacementEngine.Place([], Tasks("web", 9, 256, 512), Options(Catalog.Select(null), maxNew: 2));
        Assert.Equal(2, plan.NewInstances.Count);
        Assert.Equal(6, plan.Assignments.Count);
        Assert.All(plan.Unplaced, u => Assert.False(u.Permanent));
        Assert.Equal(3, plan.Unplaced.Count);
    }

    [Fact]
    public void MemberOf_restricts_both_existing_and_new_instances()
    {
        var instances = new[] { Instance("i-1", "a", "c6i.4xlarge"), Instance("i-2", "a", "m6i.4xlarge") };
        var options = Options(Catalog.Select(null)) with { Zones = ["a"] };
        var plan = PlacementEngine.Place(instances, Tasks("web", 3, 256, 512, memberOf: "attribute:ecs.instance-type =~ m6i.*"), options);
        Assert.All(plan.Assignments, a => Assert.Equal("i-2", a.InstanceId));

        var fresh = PlacementEngine.Place([], Tasks("db", 2, 1024, 4096, memberOf: "attribute:ecs.instance-type in [r5.xlarge, r5.2xlarge]"), options);
        Assert.All(fresh.NewInstances, n => Assert.StartsWith("r5.", n.Type.Name));
    }

    [Fact]
    public void Explain_names_the_phase_and_why_instances_were_rejected()
    {
        var instances = new[]
        {
            Instance("i-1", "a", "c6i.large"), Instance("i-2", "b", "m6i.4xlarge") with { Active = false }, Instance("i-3", "c", "m6i.4xlarge"),
        };
        var pending = Tasks("web", 1, 4096, 8192);
        var explanation = PlacementEngine.Explain("web-000", instances, pending, Options(Catalog.Select(null)));

        Assert.NotNull(explanation);
        Assert.Equal("i-3", explanation.Assignment!.InstanceId);
        Assert.Equal(["i-1"], explanation.RejectedInstances["not enough cpu"]);
        Assert.Equal(["i-2"], explanation.RejectedInstances["not ACTIVE (launching or draining)"]);
        var text = string.Join("\n", explanation.Lines());
        Assert.Contains("phase 1", text);
        Assert.Null(PlacementEngine.Explain("nope", instances, pending, Options(Catalog.Select(null))));
    }

    [Theory]
    [InlineData("attribute:ecs.instance-type == m6i.large", "m6i.large", "a", true)]
    [InlineData("attribute:ecs.instance-type == m6i.large", "c6i.large", "a", false)]
    [InlineData("attribute:ecs.instance-type =~ m6i.*", "m6i.4xlarge", "a", true)]
    [InlineData("attribute:ecs.instance-type !~ m6i.*", "m6i.4xlarge", "a", false)]
    [InlineData("attribute:ecs.availability-zone in [a, b]", "c6i.large", "b", true)]
    [InlineData("attribute:ecs.availability-zone not_in [a, b]", "c6i.large", "b", false)]
    [InlineData("attribute:ecs.instance-family == r or attribute:ecs.availability-zone == c", "c6i.large", "c", true)]
    [InlineData("attribute:ecs.instance-family == c and attribute:ecs.availability-zone == a", "c6i.large", "c", false)]
    [InlineData("attribute:custom exists", "c6i.large", "a", false)]
    [InlineData("attribute:custom not_exists", "c6i.large", "a", true)]
    public void MemberOf_expressions_evaluate_as_the_cluster_query_language_says(string expression, string type, string zone, bool expected)
    {
        var t = Catalog.Find(type)!;
        var e = MemberOfExpression.Parse(expression);
        Assert.Equal(expected, e.Matches(a => MemberOfExpression.BuiltInAttribute(a, t.Name, t.Family, zone)));
    }

    [Theory]
    [InlineData("ecs.instance-type == m5.large")]
    [InlineData("attribute:ecs.instance-type ~= m5.*")]
    [InlineData("attribute:ecs.availability-zone in a, b")]
    public void Malformed_memberOf_expressions_are_refused_with_a_reason(string expression)
    {
        Assert.Null(MemberOfExpression.TryParse(expression, out var error));
        Assert.Contains("expected", error);
    }

    [Fact]
    public void The_large_benchmark_workload_places_nearly_everything_on_existing_capacity()
    {
        var w = PlacementWorkloads.Large(tasks: 20_000, instances: 2_000, zones: 3, seed: 7);
        var plan = PlacementEngine.Place(w.Instances, w.Pending, w.Options);
        Assert.Equal(20_000, plan.Assignments.Count + plan.Unplaced.Count);
        Assert.True(plan.Assignments.Count(a => a.Phase == PlacementPhase.ExistingCapacity) > 19_000);
    }
}
