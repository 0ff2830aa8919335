using Scheduler.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Grains;

public sealed class ClusterState
{
    public ClusterSetup? Setup { get; set; }
    public bool Started { get; set; }
    public string Ami { get; set; } = "";
    public long NextInstanceNumber { get; set; } = 1;
    public long NextStandaloneNumber { get; set; } = 1;
    /// <summary>Next due time of each host (instances and Fargate zone pools), by id.</summary>
    public SortedDictionary<string, long> HostDue { get; set; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, string> HostZone { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Tasks created and not yet placed, in creation order.</summary>
    public List<TaskLaunch> Pending { get; set; } = [];
    /// <summary>Tasks per zone of each spread group (service, or task family for standalone tasks).</summary>
    public SortedDictionary<string, int[]> GroupZoneCounts { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Host capacity changes not yet sent to the placement grain, by host id.</summary>
    public SortedDictionary<string, InstanceSnapshot> Changed { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Failed zones and when they recover.</summary>
    public SortedDictionary<string, long> FailedZones { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Coordinates one cluster's scheduling tick in a fixed order: (1) timeline inputs, (2) host lifecycles due
/// now, (3) service reconciliation, (4) the placement grain's three phases, (5) dispatch of the plan to the
/// instance grains, one message per instance with all its tasks. Calls inside a step run in parallel and
/// their results are merged in id order.
/// </summary>
public sealed class ClusterGrain(
    [PersistentState("cluster", "sim")] IPersistentState<ClusterState> state) : Grain, IClusterGrain
{
    private ClusterSetup Setup => state.State.Setup ?? throw new InvalidOperationException("cluster not initialised");
    private string Key => this.GetPrimaryKeyString();

    public async Task Init(ClusterSetup setup)
    {
        state.State.Setup = setup;
        state.State.Ami = setup.Run.InitialAmi;
        await Placement().Init(setup);
        await Task.WhenAll(setup.Cluster.Services.Select(svc =>
        {
            var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, svc.TaskDefinition);
            var hasHealthCheck = def?.Containers.Any(c => c.Essential && c.HealthCheck is not null) ?? false;
            return Service(svc.Name).Init(new ServiceSetup(setup.Account, setup.Cluster.Name, svc, hasHealthCheck));
        }));
        await state.WriteStateAsync();
    }

    public async Task<ShardTick> Tick(long nowMs, IReadOnlyList<TimelineAction> inputs)
    {
        var s = state.State;
        var setup = Setup;
        var events = new List<SimEvent>();
        var reports = new List<HostReport>();

        var firstTick = !s.Started;
        if (firstTick)
        {
            s.Started = true;
            reports.AddRange(await RegisterInitialInstances(nowMs));
        }

        // (1) Timeline inputs.
        var serviceUpdates = new Dictionary<string, UpdateServiceAction>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            switch (input)
            {
                case RunTaskAction run:
                    await RunTask(nowMs, run, events);
                    break;
                case UpdateServiceAction update:
                    serviceUpdates[update.Service] = update;
                    break;
                case ReleaseAmiAction release:
                    s.Ami = release.Version;
                    break;
                case FailZoneAction fail:
                    s.FailedZones[fail.Zone] = nowMs + (long)fail.For.TotalMilliseconds;
                    break;
            }
        }
        foreach (var zone in s.FailedZones.Where(kv => kv.Value <= nowMs).Select(kv => kv.Key).ToList())
        {
            s.FailedZones.Remove(zone);
        }

        // (2) Hosts due now.
        var due = s.HostDue.Where(kv => kv.Value <= nowMs).Select(kv => kv.Key).ToList();
        reports.AddRange(await Task.WhenAll(due.Select(id => Host(id).Advance(nowMs))));
        var updates = Absorb(reports, events);

        // (3) Services with news, or all of them on the first tick.
        var unplaceable = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await Reconcile(nowMs, updates, serviceUpdates, unplaceable, firstTick, events);

        // (4, 5) Placement and dispatch; permanently unplaceable service tasks are handed back to their services.
        await PlaceAndDispatch(nowMs, events, unplaceable);
        if (unplaceable.Count > 0)
        {
            await Reconcile(nowMs, [], [], unplaceable, firstTick: false, events);
        }

        var next = s.HostDue.Values.DefaultIfEmpty(long.MaxValue).Min();
        foreach (var recover in s.FailedZones.Values)
        {
            next = Math.Min(next, recover);
        }
        return new ShardTick(NextTick(next, nowMs, setup.Run.TickMs), events);
    }

    /// <summary>The tick at or after <paramref name="dueMs"/>, strictly after now; never means never.</summary>
    public static long NextTick(long dueMs, long nowMs, long tickMs) =>
        dueMs == long.MaxValue ? long.MaxValue : Math.Max(nowMs + tickMs, SimulationGrain.AlignUp(dueMs, tickMs));

    public async Task Checkpoint(long nowMs)
    {
        var setup = Setup;
        await Task.WhenAll(state.State.HostDue.Keys.Select(id => Host(id).Checkpoint(nowMs))
            .Concat(setup.Cluster.Services.Select(svc => Service(svc.Name).Checkpoint(nowMs)))
            .Append(Placement().Checkpoint(nowMs)));
        await state.WriteStateAsync();
    }

    private async Task<IEnumerable<HostReport>> RegisterInitialInstances(long nowMs)
    {
        var setup = Setup;
        var s = state.State;
        var catalog = new InstanceTypeCatalog(setup.Run.Catalog);
        var zones = setup.Cluster.Zones;
        var launches = new List<InstanceLaunch>();
        foreach (var cp in setup.Cluster.CapacityProviders)
        {
            if (cp.Type == CapacityType.Ec2 && cp.InitialInstances > 0 && cp.InstanceTypes.Count > 0)
            {
                var type = catalog.Find(cp.InstanceTypes[0]) ?? throw new InvalidOperationException($"unknown instance type {cp.InstanceTypes[0]}");
                for (var i = 0; i < cp.InitialInstances; i++)
                {
                    launches.Add(NewInstance(nowMs, cp.Name, type, zones[i % zones.Count], preRegistered: true));
                }
            }
            else if (cp.Type == CapacityType.External)
            {
                var n = 0;
                foreach (var spec in cp.Instances)
                {
                    var type = new InstanceType($"external-{spec.Vcpu}vcpu-{spec.MemoryMiB}mib", "external", (int)Math.Ceiling(spec.Vcpu),
                        spec.MemoryMiB, spec.Gpus, spec.GpuModel, false, 0m, TimeSpan.Zero);
                    for (var i = 0; i < spec.Count; i++, n++)
                    {
                        launches.Add(NewInstance(nowMs, cp.Name, type, zones[n % zones.Count], preRegistered: true));
                    }
                }
            }
        }
        return await Task.WhenAll(launches.Select(l => Host(l.Id).Launch(l, [])));
    }

    private InstanceLaunch NewInstance(long nowMs, string capacityProvider, InstanceType type, string zone, bool preRegistered)
    {
        var s = state.State;
        var id = $"i-{s.NextInstanceNumber++:D5}";
        s.HostZone[id] = zone;
        return new InstanceLaunch(nowMs, id, Setup.Account, Setup.Cluster.Name, zone, capacityProvider, type, s.Ami, preRegistered, Fargate: false);
    }

    /// <summary>RunTask: one API call against the account's RunTask bucket; if granted, count tasks enter PROVISIONING.</summary>
    private async Task RunTask(long nowMs, RunTaskAction run, List<SimEvent> events)
    {
        var setup = Setup;
        var s = state.State;
        var limit = setup.Limits.TryGetValue(BucketNames.RunTask, out var l) ? l : BucketNames.DefaultLimit(BucketNames.RunTask);
        var granted = await GrainFactory.GetGrain<IRateLimitBucketGrain>(Keys.Bucket(setup.Run.RunId, setup.Account, BucketNames.RunTask))
            .TryAcquire(nowMs, 1, limit);
        if (granted == 0)
        {
            events.Add(new SimEvent
            {
                TimeMs = nowMs, Kind = EventKinds.Throttle, Account = setup.Account, Cluster = setup.Cluster.Name,
                Bucket = BucketNames.RunTask, Requested = 1, Granted = 0,
            });
            return;
        }
        var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, run.TaskDefinition)
            ?? throw new InvalidOperationException($"unknown task definition {run.TaskDefinition}");
        for (var i = 0; i < run.Count; i++)
        {
            var id = $"run-{s.NextStandaloneNumber++:D5}";
            var launch = TaskLaunches.Create(id, def, null, run.CapacityProvider, nowMs, setup.Run.Seed, run.RunTime, loadBalancer: false, assignPublicIp: true);
            if (run.StartedBy is { } startedBy)
            {
                launch = launch with { StartedBy = startedBy };
            }
            Enqueue(launch, nowMs, events);
        }
    }

    private void Enqueue(TaskLaunch launch, long nowMs, List<SimEvent> events)
    {
        state.State.Pending.Add(launch);
        events.Add(TaskEvent(nowMs, launch, TaskStates.Provisioning, null, null, null));
    }

    private SimEvent TaskEvent(long nowMs, TaskLaunch launch, string taskState, string? instance, string? zone, string? reason) => new()
    {
        TimeMs = nowMs, Kind = EventKinds.Task, Account = Setup.Account, Cluster = Setup.Cluster.Name,
        Task = launch.TaskId, State = taskState, Health = TaskHealth.Unknown, Service = launch.Service,
        StartedBy = launch.StartedBy, CapacityProvider = launch.CapacityProvider, Instance = instance, Zone = zone, Reason = reason,
    };

    /// <summary>Takes host reports in id order: their events into the log, next due times, and task updates for the services.</summary>
    private List<TaskUpdate> Absorb(IEnumerable<HostReport> reports, List<SimEvent> events)
    {
        var s = state.State;
        var updates = new List<TaskUpdate>();
        foreach (var r in reports.OrderBy(r => r.InstanceId, StringComparer.Ordinal))
        {
            events.AddRange(r.Events);
            s.HostDue[r.InstanceId] = r.NextDueMs;
            if (!r.Snapshot.Type.Family.Equals("fargate", StringComparison.Ordinal))
            {
                s.Changed[r.InstanceId] = r.Snapshot;
            }
            foreach (var u in r.Updates)
            {
                updates.Add(u);
                if (u.State == TaskStates.Stopped)
                {
                    CountZone(u.Group, u.Zone, -1);
                }
            }
        }
        return updates;
    }

    private void CountZone(string group, string zone, int delta)
    {
        var zones = Setup.Cluster.Zones;
        var counts = state.State.GroupZoneCounts;
        if (!counts.TryGetValue(group, out var perZone))
        {
            counts[group] = perZone = new int[zones.Count];
        }
        var index = IndexOf(zones, zone);
        if (index >= 0)
        {
            perZone[index] += delta;
        }
    }

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return i;
            }
        }
        return -1;
    }

    private async Task Reconcile(long nowMs, List<TaskUpdate> updates, Dictionary<string, UpdateServiceAction> apiUpdates,
        Dictionary<string, List<string>> unplaceable, bool firstTick, List<SimEvent> events)
    {
        var setup = Setup;
        var byService = updates.Where(u => u.Service is not null).GroupBy(u => u.Service!).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var names = setup.Cluster.Services.Select(s => s.Name)
            .Where(n => firstTick || byService.ContainsKey(n) || apiUpdates.ContainsKey(n) || unplaceable.ContainsKey(n))
            .Order(StringComparer.Ordinal).ToList();
        var results = await Task.WhenAll(names.Select(n => Service(n).Reconcile(nowMs,
            byService.TryGetValue(n, out var u) ? u : [],
            apiUpdates.GetValueOrDefault(n),
            unplaceable.TryGetValue(n, out var lost) ? lost : [])));
        unplaceable.Clear();
        var stops = new List<ServiceTaskRef>();
        for (var i = 0; i < names.Count; i++)
        {
            var spec = setup.Cluster.Services.First(svc => svc.Name == names[i]);
            var result = results[i];
            events.AddRange(result.Events);
            var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, result.TaskDefinition)
                ?? throw new InvalidOperationException($"unknown task definition {result.TaskDefinition}");
            for (var k = 0; k < result.Start.Count; k++)
            {
                var cp = PickCapacityProvider(spec.CapacityProviderStrategy, k);
                Enqueue(TaskLaunches.Create(result.Start[k], def, spec.Name, cp, nowMs, setup.Run.Seed, null, spec.LoadBalancer, spec.AssignPublicIp), nowMs, events);
            }
            stops.AddRange(result.Stop);
        }
        await Stop(nowMs, stops, StopReasons.ScalingIn, events);
    }

    /// <summary>Capacity provider strategy: base first on the first provider with a base, then by weight in a fixed rotation.</summary>
    private static string PickCapacityProvider(IReadOnlyList<CapacityProviderStrategyItem> strategy, int index)
    {
        if (strategy.Count == 1)
        {
            return strategy[0].CapacityProvider;
        }
        var total = strategy.Sum(x => Math.Max(0, x.Weight));
        if (total == 0)
        {
            return strategy[0].CapacityProvider;
        }
        var slot = index % total;
        foreach (var item in strategy)
        {
            if (slot < item.Weight)
            {
                return item.CapacityProvider;
            }
            slot -= item.Weight;
        }
        return strategy[^1].CapacityProvider;
    }

    private async Task Stop(long nowMs, List<ServiceTaskRef> stops, string reason, List<SimEvent> events)
    {
        var s = state.State;
        var placed = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var stop in stops)
        {
            var pending = s.Pending.FindIndex(p => p.TaskId == stop.TaskId);
            if (pending >= 0)
            {
                // Never placed: it stops without having run.
                var launch = s.Pending[pending];
                s.Pending.RemoveAt(pending);
                events.Add(TaskEvent(nowMs, launch, TaskStates.Stopped, null, null, reason));
                continue;
            }
            var host = stop.Instance ?? FargateHost(stop);
            if (host is not null)
            {
                (placed.TryGetValue(host, out var list) ? list : placed[host] = []).Add(stop.TaskId);
            }
        }
        var reports = await Task.WhenAll(placed.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => Host(kv.Key).Stop(nowMs, kv.Value, reason)));
        Absorb(reports, events);
    }

    private string? FargateHost(ServiceTaskRef stop) =>
        stop.Zone is null ? null : state.State.HostDue.Keys.FirstOrDefault(k => k.StartsWith("fargate-", StringComparison.Ordinal) && state.State.HostZone[k] == stop.Zone);

    private async Task PlaceAndDispatch(long nowMs, List<SimEvent> events, Dictionary<string, List<string>> unplaceable)
    {
        var s = state.State;
        var setup = Setup;
        if (s.Pending.Count == 0)
        {
            // Capacity changes wait in Changed until there is something to place.
            return;
        }
        var snapshots = s.Changed.Values.ToList();
        s.Changed.Clear();
        var providers = setup.Cluster.CapacityProviders.ToDictionary(cp => cp.Name, StringComparer.Ordinal);
        var fargate = s.Pending.Where(p => TaskLaunches.IsFargate(providers[p.CapacityProvider].Type)).ToList();
        var hosted = s.Pending.Where(p => !TaskLaunches.IsFargate(providers[p.CapacityProvider].Type)).ToList();
        s.Pending = [];

        var dispatch = new SortedDictionary<string, List<TaskLaunch>>(StringComparer.Ordinal);
        var launches = new Dictionary<string, InstanceLaunch>(StringComparer.Ordinal);
        PlaceOnFargate(nowMs, fargate, dispatch, launches);

        var result = await Placement().Place(nowMs, new PlacementRequest(
            hosted.Select(p => p.ToPending()).ToList(), snapshots,
            s.GroupZoneCounts.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
            s.FailedZones.Keys.ToList(), s.NextInstanceNumber));
        var plan = result.Plan;
        if (hosted.Count > 0)
        {
            EmitPlacementEvents(nowMs, hosted.Count, plan, events);
        }
        var byId = hosted.ToDictionary(p => p.TaskId, StringComparer.Ordinal);
        foreach (var request in plan.NewInstances)
        {
            var id = $"i-{s.NextInstanceNumber++:D5}";
            if (id != request.Id)
            {
                throw new InvalidOperationException($"placement named new instance {request.Id}, expected {id}");
            }
            s.HostZone[id] = request.Zone;
            launches[id] = new InstanceLaunch(nowMs, id, setup.Account, setup.Cluster.Name, request.Zone, request.CapacityProvider, request.Type, s.Ami, false, false);
        }
        foreach (var a in plan.Assignments)
        {
            var launch = byId[a.TaskId];
            (dispatch.TryGetValue(a.InstanceId, out var list) ? list : dispatch[a.InstanceId] = []).Add(launch);
            CountZone(launch.Group, s.HostZone[a.InstanceId], +1);
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
                (unplaceable.TryGetValue(launch.Service, out var lost) ? lost : unplaceable[launch.Service] = []).Add(launch.TaskId);
            }
        }

        var sent = await Task.WhenAll(dispatch.Select(kv => launches.TryGetValue(kv.Key, out var l)
            ? Host(kv.Key).Launch(l, kv.Value)
            : Host(kv.Key).Accept(nowMs, kv.Value)));
        Absorb(sent, events);
        foreach (var report in sent)
        {
            foreach (var refused in report.Refused)
            {
                // The host's view was newer than the placement view: try again next tick.
                var launch = dispatch[report.InstanceId].First(t => t.TaskId == refused);
                CountZone(launch.Group, s.HostZone[report.InstanceId], -1);
                s.Pending.Add(launch);
            }
        }
    }

    /// <summary>Fargate has no instance to choose: each task goes to the zone its group has fewest tasks in.</summary>
    private void PlaceOnFargate(long nowMs, List<TaskLaunch> tasks, SortedDictionary<string, List<TaskLaunch>> dispatch, Dictionary<string, InstanceLaunch> launches)
    {
        var s = state.State;
        var zones = Setup.Cluster.Zones;
        foreach (var task in tasks)
        {
            CountZone(task.Group, zones[0], 0);
            var counts = s.GroupZoneCounts[task.Group];
            var best = -1;
            for (var z = 0; z < zones.Count; z++)
            {
                if (!s.FailedZones.ContainsKey(zones[z]) && (best < 0 || counts[z] < counts[best]))
                {
                    best = z;
                }
            }
            if (best < 0)
            {
                s.Pending.Add(task);
                continue;
            }
            var id = $"fargate-{task.CapacityProvider}-{zones[best]}";
            if (!s.HostDue.ContainsKey(id) && !launches.ContainsKey(id))
            {
                s.HostZone[id] = zones[best];
                launches[id] = new InstanceLaunch(nowMs, id, Setup.Account, Setup.Cluster.Name, zones[best], task.CapacityProvider,
                    new InstanceType("fargate", "fargate", 0, 0, 0, null, false, 0m, TimeSpan.Zero), "fargate", true, true);
            }
            (dispatch.TryGetValue(id, out var list) ? list : dispatch[id] = []).Add(task);
            counts[best]++;
        }
    }

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

    private IServiceGrain Service(string name) => GrainFactory.GetGrain<IServiceGrain>(Keys.Child(Key, "svc/" + name));
    private IContainerInstanceGrain Host(string id) => GrainFactory.GetGrain<IContainerInstanceGrain>(Keys.Child(Key, id));
    private IPlacementGrain Placement() => GrainFactory.GetGrain<IPlacementGrain>(Key);
}
