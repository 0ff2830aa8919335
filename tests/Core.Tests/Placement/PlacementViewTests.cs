using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Placement;

namespace Scheduler.Core.Tests.Placement;

/// <summary>
/// The placement view takes a plan into its view one instance at a time (all its assignments at once);
/// the view must be the one taking the assignments one by one gives, whatever the plan.
/// </summary>
public sealed class PlacementViewTests
{
    private static readonly InstanceType Type = new("m6i.xlarge", "m", 4, 16384, 0, null, false, 0.192m, TimeSpan.FromMinutes(1));

    private static readonly string[] Groups = ["svc-a", "svc-b", "svc-c", "family:job"];
    private static readonly string[] Images = ["app:1", "app:2", "job:1", "side:1"];

    private static readonly Gen<InstanceSnapshot> GenInstance =
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 2].Array[0, 3], Gen.Int[0, 3].Array[0, 3], Gen.Int[0, 3].Array[0, 2]).Select((id, ports, groups, images) => new InstanceSnapshot
        {
            Id = $"i-{id:D5}", Zone = "a", CapacityProvider = "mi", Type = Type, Active = true,
            Free = new Resources(4096, 16384, 0),
            UsedHostPorts = ports.Select(p => 8080 + p).Distinct().Order().ToArray(),
            Groups = groups.Select(g => Groups[g]).Distinct().Order(StringComparer.Ordinal).ToArray(),
            CachedImages = images.Select(i => Images[i]).Distinct().Order(StringComparer.Ordinal).ToArray(),
        });

    private static readonly Gen<(PendingTask Task, int Instance)> GenTask =
        Gen.Select(Gen.Int[0, 3], Gen.Int[1, 1024], Gen.Int[0, 2].Array[0, 2], Gen.Int[0, 3].Array[0, 2], Gen.Int[0, 5]).Select((g, cpu, ports, images, instance) => (new PendingTask
        {
            TaskId = "", Group = Groups[g], CapacityProvider = "mi", Need = new Resources(cpu, cpu * 2L, 0),
            HostPorts = ports.Select(p => 8080 + p).Distinct().ToArray(),
            Images = images.Select(i => Images[i]).Distinct().ToArray(),
        }, instance));

    [Fact]
    public void Recording_a_plan_per_instance_equals_recording_it_task_by_task()
    {
        Gen.Select(GenInstance.Array[1, 6], GenTask.Array[0, 40]).Sample((instances, tasks) =>
        {
            var view = new SortedDictionary<string, InstanceSnapshot>(StringComparer.Ordinal);
            foreach (var i in instances)
            {
                view[i.Id] = i;
            }
            var ids = view.Keys.ToList();
            var pending = tasks.Select((t, k) => t.Task with { TaskId = $"t-{k}" }).ToList();
            var assignments = tasks.Select((t, k) => new TaskAssignment($"t-{k}", PlacementPhase.ExistingCapacity, ids[t.Instance % ids.Count], false, "")).ToList();
            var newInstance = new NewInstanceRequest("i-99999", "mi", Type, "b");
            assignments.AddRange(pending.Take(2).Select(p => new TaskAssignment(p.TaskId, PlacementPhase.NewCapacity, newInstance.Id, true, "")));
            var plan = new PlacementPlan(assignments, [newInstance], []);

            var expected = new SortedDictionary<string, InstanceSnapshot>(view, StringComparer.Ordinal);
            OneByOne(expected, plan, pending);
            var actual = new SortedDictionary<string, InstanceSnapshot>(view, StringComparer.Ordinal);
            PlacementAgent.Record(actual, plan, pending);

            Assert.Equal(expected.Keys, actual.Keys);
            foreach (var (id, e) in expected)
            {
                var a = actual[id];
                Assert.Equal(e.Free, a.Free);
                Assert.Equal(e.UsedHostPorts, a.UsedHostPorts);
                Assert.Equal(e.Groups, a.Groups);
                Assert.Equal(e.CachedImages, a.CachedImages);
                Assert.Equal(e.Active, a.Active);
            }
        }, iter: 2_000);
    }

    /// <summary>The reference: each assignment taken into the view on its own (as the grain did before batching).</summary>
    private static void OneByOne(IDictionary<string, InstanceSnapshot> view, PlacementPlan plan, IReadOnlyList<PendingTask> pending)
    {
        var tasks = pending.ToDictionary(p => p.TaskId, StringComparer.Ordinal);
        foreach (var n in plan.NewInstances)
        {
            view[n.Id] = new InstanceSnapshot
            {
                Id = n.Id, Zone = n.Zone, CapacityProvider = n.CapacityProvider, Type = n.Type, Active = false,
                Free = new Resources(n.Type.CpuUnits, n.Type.MemoryMiB, n.Type.Gpus),
            };
        }
        foreach (var a in plan.Assignments)
        {
            var i = view[a.InstanceId];
            var t = tasks[a.TaskId];
            view[a.InstanceId] = i with
            {
                Free = i.Free - t.Need,
                UsedHostPorts = t.HostPorts.Count == 0 ? i.UsedHostPorts : i.UsedHostPorts.Union(t.HostPorts).Order().ToArray(),
                Groups = i.Groups.Contains(t.Group) ? i.Groups : i.Groups.Append(t.Group).Order(StringComparer.Ordinal).ToArray(),
                CachedImages = t.Images.All(i.CachedImages.Contains) ? i.CachedImages : i.CachedImages.Union(t.Images).Order(StringComparer.Ordinal).ToArray(),
            };
        }
    }
}
