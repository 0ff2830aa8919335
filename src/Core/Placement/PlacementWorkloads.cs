using Scheduler.Core.Catalog;
using Scheduler.Core.Randomness;

namespace Scheduler.Core.Placement;

/// <summary>A synthetic placement input at scale, the same for a given seed: used by <c>bench</c> and the benchmarks.</summary>
public sealed record PlacementWorkload(
    IReadOnlyList<InstanceSnapshot> Instances,
    IReadOnlyList<PendingTask> Pending,
    PlacementOptions Options);

public static class PlacementWorkloads
{
    public const string Provider = "mi";

    /// <summary>
    /// <paramref name="instances"/> ACTIVE instances (c6i/m6i/r6i 4xlarge to 16xlarge, a quarter of each already
    /// partly used) over <paramref name="zones"/> zones, and <paramref name="tasks"/> pending tasks in services of
    /// 100 tasks with one of five common sizes and an image each. Sized so that nearly all tasks fit on existing
    /// capacity, which is what phase 1 of a busy cluster does every tick.
    /// </summary>
    public static PlacementWorkload Large(int tasks, int instances, int zones, long seed)
    {
        var zoneNames = Enumerable.Range(0, zones).Select(z => ((char)('a' + z)).ToString()).ToArray();
        var catalog = InstanceTypeCatalog.Default;
        var types = new[] { "c6i.4xlarge", "m6i.4xlarge", "r6i.4xlarge", "m6i.8xlarge", "c6i.8xlarge", "m6i.16xlarge" }
            .Select(n => catalog.Find(n)!).ToArray();
        var snapshots = new List<InstanceSnapshot>(instances);
        for (var i = 0; i < instances; i++)
        {
            var id = $"i-{i:D6}";
            var type = types[(int)(DeterministicRandom.NextUInt64(seed, id, "type", 0) % (ulong)types.Length)];
            var full = new Resources(type.CpuUnits, type.MemoryMiB, type.Gpus);
            var used = i % 4 == 0 ? new Resources(type.CpuUnits / 2, type.MemoryMiB / 2, 0) : default;
            snapshots.Add(new InstanceSnapshot
            {
                Id = id, Zone = zoneNames[i % zones], CapacityProvider = Provider, Type = type, Active = true,
                Free = full - used,
                CachedImages = i % 4 == 0 ? [$"img-{i % 97}"] : [],
                Groups = i % 4 == 0 ? [$"svc-{i % 97:D5}"] : [],
            });
        }
        (int Cpu, int Mem)[] sizes = [(256, 512), (512, 1024), (1024, 2048), (2048, 4096), (256, 2048)];
        var pending = new List<PendingTask>(tasks);
        for (var t = 0; t < tasks; t++)
        {
            var service = t / 100;
            var size = sizes[(int)(DeterministicRandom.NextUInt64(seed, $"svc-{service}", "size", 0) % (ulong)sizes.Length)];
            pending.Add(new PendingTask
            {
                TaskId = $"t-{t:D7}",
                Group = $"svc-{service:D5}",
                CapacityProvider = Provider,
                Need = new Resources(size.Cpu, size.Mem, 0),
                Images = [$"img-{service % 97}"],
            });
        }
        var options = new PlacementOptions
        {
            Zones = zoneNames,
            CapacityProviders = new Dictionary<string, CapacityProviderPlacement>
            {
                [Provider] = new()
                {
                    Name = Provider, AllowedTypes = catalog.Select(null), RemainingInstances = 1_000,
                },
            },
        };
        return new PlacementWorkload(snapshots, pending, options);
    }
}
