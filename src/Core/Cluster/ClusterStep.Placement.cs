using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Cluster;

public sealed partial class ClusterStep
{
    private async Task PlaceAndDispatch(long nowMs, List<SimEvent> events, Dictionary<string, List<string>> unplaceable)
    {
        var s = _book;
        var setup = Setup;
        if (s.Pending.Count == 0)
        {
            // Capacity changes wait in Changed until there is something to place.
            return;
        }
        var snapshots = s.Changed.Values.ToList();
        s.Changed.Clear();
        // One pass, in creation order; a task of the same provider as the one before needs no lookup.
        var onFargate = setup.Cluster.CapacityProviders.ToDictionary(cp => cp.Name, cp => CapacityTypes.Of(cp.Type).Fargate, StringComparer.Ordinal);
        var fargate = new List<TaskLaunch>();
        var hosted = new List<TaskLaunch>(s.Pending.Count);
        string? lastProvider = null;
        var lastFargate = false;
        foreach (var p in s.Pending)
        {
            if (!ReferenceEquals(p.CapacityProvider, lastProvider))
            {
                lastProvider = p.CapacityProvider;
                lastFargate = onFargate[lastProvider];
            }
            (lastFargate ? fargate : hosted).Add(p);
        }
        s.Pending = [];

        var dispatch = new SortedDictionary<string, List<TaskLaunch>>(StringComparer.Ordinal);
        var launches = new Dictionary<string, InstanceLaunch>(StringComparer.Ordinal);
        await PlaceOnFargate(nowMs, fargate, dispatch, launches);

        var allowance = ScalingAllowance(nowMs, hosted);
        var plan = await _fleet.Place(nowMs, new PlacementRequest(
            ToPending(hosted), snapshots,
            ZoneSpread.WithoutDoomed(s.GroupZoneCounts, s.DoomedZoneCounts, setup.Cluster.Zones),
            s.FailedZones.Keys.ToList(), s.NextInstanceNumber, allowance));
        foreach (var cp in plan.NewInstances.Select(n => n.CapacityProvider).Distinct().Where(allowance.ContainsKey))
        {
            s.ScaleOutAllowedAtMs[cp] = nowMs + (long)Pipeline.ManagedScalingInterval.TotalMilliseconds;
        }
        if (plan.Shards is { } shards)
        {
            Placement.Sharding.ShardedPlacementEvents.Append(events, nowMs, nowMs / setup.Run.TickMs, setup.Account, setup.Cluster.Name, shards);
        }
        else if (hosted.Count > 0)
        {
            EmitPlacementEvents(nowMs, hosted.Count, plan, events);
        }
        var byId = hosted.ToDictionary(p => p.TaskId, StringComparer.Ordinal);
        foreach (var request in plan.NewInstances)
        {
            // The placement view named them from the same counter (it saw NextInstanceNumber in the request).
            var launch = NewInstance(nowMs, request.CapacityProvider, request.Type, request.Zone, preRegistered: false);
            if (launch.Id != request.Id)
            {
                throw new InvalidOperationException($"placement named new instance {request.Id}, expected {launch.Id}");
            }
            launches[launch.Id] = launch;
        }
        // Per assignment: one hash lookup of its instance's batch and of its group's counts; the sorted maps are
        // looked up once per instance and per group.
        var batches = new Dictionary<string, (List<TaskLaunch> Tasks, int Zone)>(StringComparer.Ordinal);
        var groupCounts = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var a in plan.Assignments)
        {
            var launch = byId[a.TaskId];
            if (!batches.TryGetValue(a.InstanceId, out var batch))
            {
                batch = (dispatch.TryGetValue(a.InstanceId, out var list) ? list : dispatch[a.InstanceId] = [], IndexOf(setup.Cluster.Zones, s.Hosts[a.InstanceId].Zone));
                batches[a.InstanceId] = batch;
            }
            batch.Tasks.Add(launch);
            if (!groupCounts.TryGetValue(launch.Group, out var perZone))
            {
                CountZone(launch.Group, setup.Cluster.Zones[0], 0);
                groupCounts[launch.Group] = perZone = s.GroupZoneCounts[launch.Group];
            }
            if (batch.Zone >= 0)
            {
                perZone[batch.Zone]++;
            }
        }
        foreach (var u in plan.Unplaced)
        {
            var launch = byId[u.TaskId];
            if (!u.Permanent)
            {
                s.Pending.Add(launch);
                continue;
            }
            events.Add(TaskEvent(nowMs, launch, TaskStates.Stopped, null, null, $"{StopReasons.Unplaceable}: {u.Reason}"));
            if (launch.Service is not null)
            {
                CountProvider(launch.Service, launch.CapacityProvider, -1);
                (unplaceable.TryGetValue(launch.Service, out var lost) ? lost : unplaceable[launch.Service] = []).Add(launch.TaskId);
            }
        }

        var sent = dispatch.Count == 0 ? [] : await _fleet.Send(dispatch.Select(kv => launches.TryGetValue(kv.Key, out var l)
            ? (HostCommand)new LaunchHost(l, kv.Value)
            : new AcceptTasks(kv.Key, nowMs, kv.Value)).ToList());
        Absorb(sent, events);
        foreach (var report in sent)
        {
            foreach (var refused in report.Refused)
            {
                // The host's view was newer than the placement view: try again next tick.
                var launch = dispatch[report.InstanceId].First(t => t.TaskId == refused);
                CountZone(launch.Group, s.Hosts[report.InstanceId].Zone, -1);
                s.Pending.Add(launch);
            }
        }
    }

    /// <summary>The placement's view of the tasks; tasks created from one template share their image names.</summary>
    private static List<PendingTask> ToPending(List<TaskLaunch> tasks)
    {
        var names = new Dictionary<IReadOnlyList<ImageRef>, string[]>(ReferenceEqualityComparer.Instance);
        var pending = new List<PendingTask>(tasks.Count);
        foreach (var t in tasks)
        {
            if (!names.TryGetValue(t.Images, out var images))
            {
                names[t.Images] = images = t.Images.Select(i => i.Name).ToArray();
            }
            pending.Add(t.ToPending(images));
        }
        return pending;
    }

    /// <summary>
    /// EC2 capacity providers scale out in steps (managed scaling): while tasks wait, a step may launch up to
    /// <see cref="LaunchPipeline.ManagedScalingStep"/> instances, then the next step waits
    /// <see cref="LaunchPipeline.ManagedScalingInterval"/>. Managed Instances launch what placement asks for.
    /// </summary>
    private Dictionary<string, int> ScalingAllowance(long nowMs, List<TaskLaunch> hosted)
    {
        var s = _book;
        var allowance = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var cp in Setup.Cluster.CapacityProviders.Where(cp => CapacityTypes.Of(cp.Type).ScalesInSteps))
        {
            if (!hosted.Any(t => t.CapacityProvider == cp.Name))
            {
                continue;
            }
            var current = s.Hosts.Values.Count(h => h.CapacityProvider == cp.Name);
            allowance[cp.Name] = nowMs >= s.ScaleOutAllowedAtMs.GetValueOrDefault(cp.Name) ? Pipeline.ManagedScalingStep(current) : 0;
        }
        return allowance;
    }

    /// <summary>
    /// Fargate has no instance to choose: each task goes to the zone its group has fewest tasks in. Fargate
    /// Spot tasks also queue for Spot availability (the account's warm Spot slots, then a slow trickle), and
    /// wait in PROVISIONING until their slot is free.
    /// </summary>
    private async Task PlaceOnFargate(long nowMs, List<TaskLaunch> tasks, SortedDictionary<string, List<TaskLaunch>> dispatch, Dictionary<string, InstanceLaunch> launches)
    {
        var s = _book;
        var zones = Setup.Cluster.Zones;
        var spot = tasks.Count(t => Traits(t.CapacityProvider).QueuesForCapacity && s.FailedZones.Count < zones.Count);
        var spotReady = spot == 0
            ? []
            : await _fleet.Reserve(SpotCapacityBucket, nowMs, spot, new BucketLimit(Math.Max(1, Pipeline.SpotCapacityWarmTasks), Pipeline.SpotCapacityPerSecond));
        var nextSpot = 0;
        foreach (var original in tasks)
        {
            var task = original;
            CountZone(task.Group, zones[0], 0);
            var counts = s.GroupZoneCounts[task.Group];
            var best = -1;
            for (var z = 0; z < zones.Count; z++)
            {
                if (!s.FailedZones.ContainsKey(zones[z]) && (best < 0
                    || counts[z] - ZoneSpread.Doomed(s.DoomedZoneCounts, task.Group, zones[z]) < counts[best] - ZoneSpread.Doomed(s.DoomedZoneCounts, task.Group, zones[best])))
                {
                    best = z;
                }
            }
            if (best < 0)
            {
                s.Pending.Add(task);
                continue;
            }
            if (Traits(task.CapacityProvider).QueuesForCapacity)
            {
                task = task with { CapacityReadyAtMs = spotReady[nextSpot++] };
            }
            var id = $"fargate-{task.CapacityProvider}-{zones[best]}";
            if (!s.HasReported(id) && !launches.ContainsKey(id))
            {
                var pool = s.Host(id);
                pool.Zone = zones[best];
                pool.CapacityProvider = task.CapacityProvider;
                launches[id] = new InstanceLaunch(nowMs, id, Setup.Account, Setup.Cluster.Name, zones[best], task.CapacityProvider,
                    new InstanceType("fargate", "fargate", 0, 0, 0, null, false, 0m, TimeSpan.Zero), "fargate", true, true,
                    Lifecycle(task.CapacityProvider), Pipeline, Setup.Run.Runtime);
            }
            (dispatch.TryGetValue(id, out var list) ? list : dispatch[id] = []).Add(task);
            counts[best]++;
        }
    }

    /// <summary>The account's Fargate Spot availability (a queueing bucket, not an API limit).</summary>
    private const string SpotCapacityBucket = "fargateSpotCapacity";

    private void EmitPlacementEvents(long nowMs, int pending, PlacementPlan plan, List<SimEvent> events)
    {
        var setup = Setup;
        var remaining = pending;
        foreach (var phase in new[] { PlacementPhase.ExistingCapacity, PlacementPhase.NewCapacity, PlacementPhase.BinPacking })
        {
            if (remaining == 0 && phase != PlacementPhase.ExistingCapacity)
            {
                break;
            }
            var placed = plan.Assignments.Count(a => a.Phase == phase);
            remaining -= placed;
            events.Add(new SimEvent
            {
                TimeMs = nowMs, Kind = EventKinds.Placement, Account = setup.Account, Cluster = setup.Cluster.Name,
                Tick = nowMs / setup.Run.TickMs, Phase = (int)phase, Placed = placed, Unplaced = remaining,
                InstancesRequested = phase == PlacementPhase.NewCapacity ? plan.NewInstances.Count : 0,
            });
        }
    }
}
