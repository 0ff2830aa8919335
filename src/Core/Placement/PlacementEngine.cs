namespace Scheduler.Core.Placement;

public static class PlacementEngine
{
    public static PlacementPlan Place(IReadOnlyList<InstanceSnapshot> instances, IReadOnlyList<PendingTask> pending, PlacementOptions options)
    {
        var free = instances.ToDictionary(i => i.Id, i => i.Free);
        var assignments = new List<TaskAssignment>();
        var news = new List<NewInstanceRequest>();
        var unplaced = new List<UnplacedTask>();
        foreach (var t in pending)
        {
            var target = instances.FirstOrDefault(i => i.Active && i.CapacityProvider == t.CapacityProvider && free[i.Id].Fits(t.Need));
            if (target is not null)
            {
                free[target.Id] -= t.Need;
                assignments.Add(new TaskAssignment(t.TaskId, PlacementPhase.ExistingCapacity, target.Id, false, "first fit"));
                continue;
            }
            var existingNew = news.FirstOrDefault(n => n.CapacityProvider == t.CapacityProvider && free[n.Id].Fits(t.Need));
            if (existingNew is not null)
            {
                free[existingNew.Id] -= t.Need;
                assignments.Add(new TaskAssignment(t.TaskId, PlacementPhase.BinPacking, existingNew.Id, true, "new"));
                continue;
            }
            var cp = options.CapacityProviders[t.CapacityProvider];
            var type = cp.AllowedTypes.OrderByDescending(x => x.Vcpu).FirstOrDefault();
            if (type is null || !new Resources(type.CpuUnits, type.MemoryMiB, type.Gpus).Fits(t.Need))
            {
                unplaced.Add(new UnplacedTask(t.TaskId, "too large", true));
                continue;
            }
            var id = options.NewInstancePrefix + news.Count;
            news.Add(new NewInstanceRequest(id, t.CapacityProvider, type, options.Zones[news.Count % options.Zones.Count]));
            free[id] = new Resources(type.CpuUnits, type.MemoryMiB, type.Gpus) - t.Need;
            assignments.Add(new TaskAssignment(t.TaskId, PlacementPhase.BinPacking, id, true, "new"));
        }
        return new PlacementPlan(assignments, news, unplaced);
    }
}
