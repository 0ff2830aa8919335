using Scheduler.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Grains;

public sealed class PlacementState
{
    public ClusterSetup? Setup { get; set; }
    /// <summary>The cluster's capacity as placement sees it, by instance id.</summary>
    public SortedDictionary<string, InstanceSnapshot> Instances { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Keeps the cluster's capacity view (updated from the hosts' reports) and runs the pure three-phase
/// placement on it each tick; it records its own plan in the view so the next tick starts from it.
/// </summary>
public sealed class PlacementGrain(
    [PersistentState("placement", "sim")] IPersistentState<PlacementState> state) : Grain, IPlacementGrain
{
    public Task Init(ClusterSetup setup)
    {
        state.State.Setup = setup;
        return state.WriteStateAsync();
    }

    public Task<PlacementResult> Place(long nowMs, PlacementRequest request)
    {
        var view = state.State.Instances;
        foreach (var snapshot in request.InstanceUpdates)
        {
            view[snapshot.Id] = snapshot;
        }
        var setup = state.State.Setup ?? throw new InvalidOperationException("placement not initialised");
        var plan = Renumber(PlacementEngine.Place(view.Values.ToList(), request.Pending, Options(setup, request)), request.NextInstanceNumber);
        Record(plan, request);
        return Task.FromResult(new PlacementResult(plan, plan.NewInstances.Select(n => n.Id).ToList()));
    }

    public Task Checkpoint(long nowMs) => state.WriteStateAsync();

    private PlacementOptions Options(ClusterSetup setup, PlacementRequest request)
    {
        var catalog = new InstanceTypeCatalog(setup.Run.Catalog);
        var view = state.State.Instances;
        var providers = new Dictionary<string, CapacityProviderPlacement>(StringComparer.Ordinal);
        foreach (var cp in setup.Cluster.CapacityProviders)
        {
            IReadOnlyList<InstanceType> types = cp.Type switch
            {
                CapacityType.ManagedInstances => catalog.Select(cp.InstanceRequirements),
                CapacityType.Ec2 => cp.InstanceTypes.Select(catalog.Find).OfType<InstanceType>().ToList(),
                _ => [],
            };
            var running = view.Values.Count(i => i.CapacityProvider == cp.Name);
            providers[cp.Name] = new CapacityProviderPlacement
            {
                Name = cp.Name,
                AllowedTypes = types,
                RemainingInstances = Math.Max(0, cp.MaxInstances - running),
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
            ids[n.Id] = $"i-{next++:D5}";
        }
        return new PlacementPlan(
            plan.Assignments.Select(a => a.NewInstance ? a with { InstanceId = ids[a.InstanceId] } : a).ToList(),
            plan.NewInstances.Select(n => n with { Id = ids[n.Id] }).ToList(),
            plan.Unplaced);
    }

    /// <summary>Takes the plan's reservations into the view, so that a second plan before the hosts report cannot over-commit.</summary>
    private void Record(PlacementPlan plan, PlacementRequest request)
    {
        var view = state.State.Instances;
        var tasks = request.Pending.ToDictionary(p => p.TaskId, StringComparer.Ordinal);
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
