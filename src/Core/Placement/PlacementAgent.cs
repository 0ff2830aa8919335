using Scheduler.Core.Catalog;
using Scheduler.Core.Cluster;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Placement;

/// <summary>
/// The cluster's capacity as placement sees it (updated from the hosts' reports) and the pure three-phase placement
/// run on it each round; it records its own plan in the view so that the next round starts from it. The placement
/// grain persists it; a test can hold it in memory. The sorted list of the view is a cache of this object only, so
/// an object read back from a checkpoint starts without it.
/// </summary>
public sealed partial class PlacementAgent
{
    public ClusterSetup? Setup { get; set; }
    /// <summary>The cluster's capacity as placement sees it, by instance id.</summary>
    public SortedDictionary<string, InstanceSnapshot> Instances { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Explanations of the run's explained task, one block per tick it was pending.</summary>
    public List<string> Explanation { get; set; } = [];

    /// <summary>Takes the capacity changes into the view, places the pending tasks and records the plan in the view.</summary>
    public PlacementPlan Place(long nowMs, PlacementRequest request)
    {
        TakeUpdates(request);
        var setup = Setup ?? throw new InvalidOperationException("placement not initialised");
        if (!setup.Cluster.Placement.IsDefault)
        {
            // Every scheduler run here, one after another (the placement grain runs them as grains: PlaceAsync).
            return PlaceSharded(nowMs, request, setup, InProcess).GetAwaiter().GetResult();
        }
        var instances = Cache.Instances;
        var options = Options(setup, request);
        var plan = Renumber(WithinAllowance(PlacementEngine.Place(instances, request.Pending, options), request.InstanceAllowance), request.NextInstanceNumber);
        if (setup.Run.ExplainTask is { } explain && Explanation.Count < 100
            && PlacementEngine.Explain(explain, instances, request.Pending, options, plan) is { } explanation)
        {
            Explanation.Add($"at {nowMs / 1000.0:0.###}s in {setup.Account}/{setup.Cluster.Name}:");
            Explanation.AddRange(explanation.Lines());
        }
        Record(plan, request);
        return plan;
    }

    /// <summary>Takes the hosts' capacity changes into the view.</summary>
    private void TakeUpdates(PlacementRequest request)
    {
        var view = Instances;
        var cache = Cache;
        foreach (var snapshot in request.InstanceUpdates)
        {
            if (snapshot.Terminated)
            {
                view.Remove(snapshot.Id);
                cache.Remove(snapshot.Id);
            }
            else
            {
                view[snapshot.Id] = snapshot;
                cache.Put(snapshot);
            }
        }
    }

    /// <summary>The instance types each capacity provider may launch: fixed for the run, so worked out once per activation.</summary>
    private Dictionary<string, IReadOnlyList<InstanceType>>? _allowedTypes;

    private Dictionary<string, IReadOnlyList<InstanceType>> AllowedTypes(ClusterSetup setup)
    {
        if (_allowedTypes is null)
        {
            var catalog = new InstanceTypeCatalog(setup.Run.Catalog);
            _allowedTypes = new Dictionary<string, IReadOnlyList<InstanceType>>(StringComparer.Ordinal);
            foreach (var cp in setup.Cluster.CapacityProviders)
            {
                _allowedTypes[cp.Name] = cp.Type switch
                {
                    CapacityType.ManagedInstances => catalog.Select(cp.InstanceRequirements),
                    CapacityType.Ec2 => cp.InstanceTypes.Select(catalog.Find).OfType<InstanceType>().ToList(),
                    _ => [],
                };
            }
        }
        return _allowedTypes;
    }

    private PlacementOptions Options(ClusterSetup setup, PlacementRequest request)
    {
        var allowedTypes = AllowedTypes(setup);
        var perProvider = Cache.PerProvider;
        var providers = new Dictionary<string, CapacityProviderPlacement>(StringComparer.Ordinal);
        foreach (var cp in setup.Cluster.CapacityProviders)
        {
            var types = allowedTypes[cp.Name];
            var running = perProvider.GetValueOrDefault(cp.Name);
            var remaining = Math.Max(0, cp.MaxInstances - running);
            if (request.InstanceAllowance?.TryGetValue(cp.Name, out var allowed) == true)
            {
                // EC2 managed scaling: this step may launch only so many.
                remaining = Math.Min(remaining, allowed);
            }
            providers[cp.Name] = new CapacityProviderPlacement
            {
                Name = cp.Name,
                AllowedTypes = types,
                RemainingInstances = remaining,
            };
        }
        return new PlacementOptions
        {
            Zones = setup.Cluster.Zones,
            CapacityProviders = providers,
            GroupZoneCounts = request.GroupZoneCounts,
            UnavailableZones = request.UnavailableZones,
        };
    }

    /// <summary>
    /// Holds a plan to the capacity providers' scaling allowance: new instances beyond a provider's allowance
    /// are dropped and their tasks wait (transiently unplaced) for the next scaling step.
    /// </summary>
    public static PlacementPlan WithinAllowance(PlacementPlan plan, IReadOnlyDictionary<string, int>? allowance)
    {
        if (allowance is null || allowance.Count == 0)
        {
            return plan;
        }
        // Kept round-robin over the zones (each zone's own plan order), so a partial step keeps the spread.
        var keep = new HashSet<string>(StringComparer.Ordinal);
        foreach (var provider in plan.NewInstances.GroupBy(n => n.CapacityProvider))
        {
            var max = allowance.TryGetValue(provider.Key, out var m) ? m : int.MaxValue;
            var perZone = provider.GroupBy(n => n.Zone).Select(g => new Queue<NewInstanceRequest>(g)).ToList();
            var taken = 0;
            while (taken < max && perZone.Any(q => q.Count > 0))
            {
                foreach (var q in perZone.Where(q => q.Count > 0))
                {
                    if (taken++ >= max)
                    {
                        break;
                    }
                    keep.Add(q.Dequeue().Id);
                }
            }
        }
        var kept = plan.NewInstances.Where(n => keep.Contains(n.Id)).ToList();
        var dropped = plan.NewInstances.Where(n => !keep.Contains(n.Id)).Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
        if (dropped.Count == 0)
        {
            return plan;
        }
        var unplaced = plan.Unplaced.ToList();
        unplaced.AddRange(plan.Assignments.Where(a => a.NewInstance && dropped.Contains(a.InstanceId))
            .Select(a => new UnplacedTask(a.TaskId, "waiting for the capacity provider to scale out", false)));
        return new PlacementPlan(plan.Assignments.Where(a => !(a.NewInstance && dropped.Contains(a.InstanceId))).ToList(), kept, unplaced);
    }

    /// <summary>Gives the plan's new instances the cluster's next instance ids, in plan order.</summary>
    private static PlacementPlan Renumber(PlacementPlan plan, long next)
    {
        if (plan.NewInstances.Count == 0)
        {
            return plan;
        }
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in plan.NewInstances)
        {
            ids[n.Id] = ClusterBook.InstanceId(next++);
        }
        return new PlacementPlan(
            plan.Assignments.Select(a => a.NewInstance ? a with { InstanceId = ids[a.InstanceId] } : a).ToList(),
            plan.NewInstances.Select(n => n with { Id = ids[n.Id] }).ToList(),
            plan.Unplaced);
    }

    /// <summary>
    /// Takes the plan's reservations into the view, so that a second plan before the hosts report cannot
    /// over-commit. One new snapshot per instance the plan touched, whatever the number of its tasks.
    /// </summary>
    private void Record(PlacementPlan plan, PlacementRequest request)
    {
        var view = Instances;
        foreach (var id in Record(view, plan, request.Pending))
        {
            Cache.Put(view[id]);
        }
    }

    /// <summary>The view as a list in id order and counted per provider, kept in step with it (rebuilt after a reactivation).</summary>
    private ViewCache Cache => _cache ??= new ViewCache(Instances.Values);
    private ViewCache? _cache;

    private sealed class ViewCache
    {
        private readonly List<InstanceSnapshot> _instances;

        public ViewCache(IEnumerable<InstanceSnapshot> instances)
        {
            _instances = [.. instances];
            foreach (var i in _instances)
            {
                PerProvider[i.CapacityProvider] = PerProvider.GetValueOrDefault(i.CapacityProvider) + 1;
            }
        }

        public IReadOnlyList<InstanceSnapshot> Instances => _instances;

        public Dictionary<string, int> PerProvider { get; } = new(StringComparer.Ordinal);

        public void Put(InstanceSnapshot snapshot)
        {
            var at = Find(snapshot.Id);
            if (at >= 0)
            {
                _instances[at] = snapshot;
                return;
            }
            _instances.Insert(~at, snapshot);
            PerProvider[snapshot.CapacityProvider] = PerProvider.GetValueOrDefault(snapshot.CapacityProvider) + 1;
        }

        public void Remove(string id)
        {
            var at = Find(id);
            if (at >= 0)
            {
                PerProvider[_instances[at].CapacityProvider]--;
                _instances.RemoveAt(at);
            }
        }

        /// <summary>The index of the instance, or the bitwise complement of where it would go.</summary>
        private int Find(string id)
        {
            int lo = 0, hi = _instances.Count - 1;
            while (lo <= hi)
            {
                var mid = lo + ((hi - lo) >> 1);
                var c = string.CompareOrdinal(_instances[mid].Id, id);
                if (c == 0)
                {
                    return mid;
                }
                if (c < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            return ~lo;
        }
    }

    /// <summary>
    /// The view after <paramref name="plan"/>: its new instances added, and each instance with assignments
    /// replaced by one snapshot with their needs taken off and their ports, groups and images added
    /// (the same view as taking the assignments one at a time). Returns the ids of the instances it added or replaced,
    /// each once.
    /// </summary>
    public static IReadOnlyCollection<string> Record(IDictionary<string, InstanceSnapshot> view, PlacementPlan plan, IReadOnlyList<PendingTask> pending)
    {
        var tasks = new Dictionary<string, PendingTask>(pending.Count, StringComparer.Ordinal);
        foreach (var p in pending)
        {
            tasks[p.TaskId] = p;
        }
        var touched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in plan.NewInstances)
        {
            touched.Add(n.Id);
            view[n.Id] = new InstanceSnapshot
            {
                Id = n.Id, Zone = n.Zone, CapacityProvider = n.CapacityProvider, Type = n.Type, Active = false, Launching = true,
                Free = new Resources(n.Type.CpuUnits, n.Type.MemoryMiB, n.Type.Gpus),
            };
        }
        var byInstance = new Dictionary<string, List<PendingTask>>(StringComparer.Ordinal);
        foreach (var a in plan.Assignments)
        {
            (byInstance.TryGetValue(a.InstanceId, out var list) ? list : byInstance[a.InstanceId] = []).Add(tasks[a.TaskId]);
        }
        foreach (var (id, placed) in byInstance)
        {
            var i = view[id];
            var need = default(Resources);
            HashSet<int>? ports = null;
            List<string>? groups = null;
            HashSet<string>? images = null;
            foreach (var t in placed)
            {
                need += t.Need;
                if (t.HostPorts.Count > 0)
                {
                    (ports ??= [.. i.UsedHostPorts]).UnionWith(t.HostPorts);
                }
                if (!i.Groups.Contains(t.Group) && !(groups?.Contains(t.Group) ?? false))
                {
                    (groups ??= []).Add(t.Group);
                }
                // By index: an interface foreach would allocate an enumerator per task.
                var taskImages = t.Images;
                for (var k = 0; k < taskImages.Count; k++)
                {
                    if (!i.CachedImages.Contains(taskImages[k]))
                    {
                        (images ??= new HashSet<string>(StringComparer.Ordinal)).Add(taskImages[k]);
                    }
                }
            }
            view[id] = i with
            {
                Free = i.Free - need,
                UsedHostPorts = ports is null ? i.UsedHostPorts : Sorted(ports),
                // The added groups and images are not on the instance yet, so each merge is a concatenation, sorted.
                Groups = groups is null ? i.Groups : SortedUnion(i.Groups, groups),
                CachedImages = images is null ? i.CachedImages : SortedUnion(i.CachedImages, images),
            };
            touched.Add(id);
        }
        return touched;
    }

    private static int[] Sorted(HashSet<int> ports)
    {
        var array = new int[ports.Count];
        ports.CopyTo(array);
        Array.Sort(array);
        return array;
    }

    /// <summary>Two disjoint sets of names as one array in ordinal order.</summary>
    private static string[] SortedUnion(IReadOnlyCollection<string> existing, IReadOnlyCollection<string> added)
    {
        var array = new string[existing.Count + added.Count];
        var k = 0;
        foreach (var name in existing)
        {
            array[k++] = name;
        }
        foreach (var name in added)
        {
            array[k++] = name;
        }
        if (array.Length > 1)
        {
            Array.Sort(array, StringComparer.Ordinal);
        }
        return array;
    }
}
