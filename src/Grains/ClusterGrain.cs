using Scheduler.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Cluster;
using Scheduler.Core.Diagnostics;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Placement;
using Scheduler.Core.Placement.Sharding;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;
using Scheduler.Grains.Checkpoints;

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
    /// <summary>Per service, its tasks per zone that are being replaced or stopped (as of its last reconciliation): placement counts them out.</summary>
    public SortedDictionary<string, SortedDictionary<string, int>> DoomedZoneCounts { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Host capacity changes not yet sent to the placement grain, by host id.</summary>
    public SortedDictionary<string, InstanceSnapshot> Changed { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Failed zones and when they recover.</summary>
    public SortedDictionary<string, long> FailedZones { get; set; } = new(StringComparer.Ordinal);
    /// <summary>What the cluster knows of each instance's lifecycle, from its reports (Fargate pools excluded).</summary>
    public SortedDictionary<string, HostView> Hosts { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The available zones last sent to the services (null = nothing sent yet), so that only changes are sent.</summary>
    public string? LastZones { get; set; }
    /// <summary>Hosts that started or stopped DRAINING since the services were last told (a host that did both is not in it).</summary>
    public SortedSet<string> DrainingToggled { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Services with tasks on a host that started DRAINING since the services were last told.</summary>
    public SortedSet<string> FleetAffected { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Services whose rebalancing waits for the fleet to change (stuck, or a move in flight): every fleet change concerns them.</summary>
    public SortedSet<string> ServicesWatchingFleet { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The capacity provider of each host (instances and Fargate zone pools), by id.</summary>
    public SortedDictionary<string, string> HostProvider { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Each service's deployment-rate bucket (SPEC section 6: 500/min on Fargate, 250/min otherwise).</summary>
    public SortedDictionary<string, TokenBucket> DeploymentBuckets { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Each service's live tasks per capacity provider, for its capacity provider strategy (base, weight).</summary>
    public SortedDictionary<string, SortedDictionary<string, int>> ServiceProviderCounts { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Services still short of desired because their launch allowance ran out: reconciled again next tick.</summary>
    public SortedSet<string> ServicesWaiting { get; set; } = new(StringComparer.Ordinal);
    /// <summary>EC2 managed scaling: when each EC2 capacity provider may take its next scale-out step.</summary>
    public SortedDictionary<string, long> ScaleOutAllowedAtMs { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Services whose launches an account Fargate bucket holds back now: one throttle event per such episode, not one per tick.</summary>
    public SortedSet<string> ServicesThrottled { get; set; } = new(StringComparer.Ordinal);
    /// <summary>When a service must reconcile again by itself (a task's scale-in protection runs out).</summary>
    public SortedDictionary<string, long> ServiceWakeAtMs { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Hosts holding tasks protected from scale-in, per service: consolidation leaves them alone.</summary>
    public SortedDictionary<string, List<string>> ProtectedHosts { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Counts changes of what consolidation looks at (hosts' use and status, protected hosts).</summary>
    public long ConsolidationVersion { get; set; }
    /// <summary>The next time a host becomes a consolidation candidate, as computed at <see cref="ConsolidationCachedAt"/>.</summary>
    public long ConsolidationDueMs { get; set; } = long.MaxValue;
    public long ConsolidationCachedAt { get; set; } = -1;
}

public sealed class HostView
{
    public string Status { get; set; } = InstanceStates.Launching;
    public long LaunchedAtMs { get; set; }
    public string CapacityProvider { get; set; } = "";
    public string Zone { get; set; } = "";
    public string? WantsDrain { get; set; }
    public string? DrainReason { get; set; }
    public Resources Registered { get; set; }
    public Resources Free { get; set; }
    /// <summary>Holds standalone (RunTask) tasks, which are never moved: consolidation leaves it alone.</summary>
    public bool Standalone { get; set; }
    /// <summary>Since when its reserved share has stayed below the consolidation threshold; <see cref="long.MaxValue"/> = not underused.</summary>
    public long UnderusedSinceMs { get; set; } = long.MaxValue;
    /// <summary>Consolidation found no room for its tasks at this <see cref="ClusterState.ConsolidationVersion"/>: not a candidate until something changes.</summary>
    public long ConsolidationBlockedAt { get; set; } = -1;
}

/// <summary>
/// Coordinates one cluster's scheduling tick in a fixed order: (1) timeline inputs, (2) host lifecycles due
/// now, (3) service reconciliation, (4) the placement grain's three phases, (5) dispatch of the plan to the
/// instance grains, one message per instance with all its tasks. Calls inside a step run in parallel and
/// their results are merged in id order.
/// </summary>
[Orleans.Placement.HashBasedPlacement]
public sealed partial class ClusterGrain(
    [PersistentState("cluster", "sim")] IPersistentState<ClusterState> state) : Grain, IClusterGrain, ICheckpointedGrain
{
    public async Task ReloadAsync()
    {
        await state.ReadStateAsync();
        // The host index is a view of the state: after a rollback it is rebuilt from the reloaded state.
        _index = null;
    }

    private ClusterSetup Setup => state.State.Setup ?? throw new InvalidOperationException("cluster not initialised");
    private string Key => this.GetPrimaryKeyString();
    /// <summary>The simulated time of the tick in progress (host reports carry none).</summary>
    private long _nowMs;

    public async Task Init(ClusterSetup setup)
    {
        state.State.Setup = setup;
        state.State.Ami = setup.Run.InitialAmi;
        await Placement().Init(setup);
        await Task.WhenAll(setup.Cluster.Services.Select(svc =>
        {
            var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, svc.TaskDefinition);
            var hasHealthCheck = def?.Containers.Any(c => c.Essential && c.HealthCheck is not null) ?? false;
            return Service(svc.Name).Init(new ServiceSetup(setup.Account, setup.Cluster.Name, svc, hasHealthCheck, setup.Cluster.TaskDefinitions,
                setup.Run.Runtime?.Backoff));
        }));
        await state.WriteStateAsync();
    }

    /// <summary>Pending tasks this activation last reported to the <c>scheduler.tasks.pending</c> meter.</summary>
    private long _pendingReported;

    public async Task<ShardTick> Tick(long nowMs, IReadOnlyList<TimelineAction> inputs)
    {
        using var span = SchedulerDiagnostics.StartTick(Key, nowMs);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var tick = await RunTick(nowMs, inputs);
        _pendingReported = SchedulerDiagnostics.TickDone(tick.Events, state.State.Pending.Count, _pendingReported, started, span);
        return tick;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        SchedulerDiagnostics.TasksPending.Add(-_pendingReported);
        _pendingReported = 0;
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    private async Task<ShardTick> RunTick(long nowMs, IReadOnlyList<TimelineAction> inputs)
    {
        var s = state.State;
        var setup = Setup;
        var events = new List<SimEvent>();
        var reports = new List<HostReport>();
        _nowMs = nowMs;

        var firstTick = !s.Started;
        if (firstTick)
        {
            s.Started = true;
            reports.AddRange(await RegisterInitialInstances(nowMs));
        }

        // (1) Timeline inputs.
        var serviceUpdates = new Dictionary<string, UpdateServiceAction>(StringComparer.Ordinal);
        var drains = new List<DrainInstanceAction>();
        var protections = new List<UpdateTaskProtectionAction>();
        var failedNow = new List<string>();
        var userStops = new List<StopTaskAction>();
        foreach (var input in inputs)
        {
            switch (input)
            {
                case RegisterTaskDefinitionAction register:
                    await AddTaskDefinition(register.TaskDefinition);
                    break;
                case CreateServiceAction create:
                    await CreateService(create.Service);
                    break;
                case StopTaskAction stop:
                    userStops.Add(stop);
                    break;
                case RunTaskAction run:
                    await RunTask(nowMs, run, events);
                    break;
                case Core.Batch.StartJobTasksAction jobs:
                    StartJobTasks(nowMs, jobs, events);
                    break;
                case UpdateServiceAction update:
                    serviceUpdates[update.Service] = update;
                    break;
                case ReleaseAmiAction release:
                    s.Ami = release.Version;
                    break;
                case FailZoneAction fail:
                    s.FailedZones[fail.Zone] = nowMs + (long)fail.For.TotalMilliseconds;
                    failedNow.Add(fail.Zone);
                    break;
                case DrainInstanceAction drain:
                    drains.Add(drain);
                    break;
                case UpdateTaskProtectionAction protection:
                    protections.Add(protection);
                    break;
            }
        }
        foreach (var zone in s.FailedZones.Where(kv => kv.Value <= nowMs).Select(kv => kv.Key).ToList())
        {
            s.FailedZones.Remove(zone);
        }

        // (2) Hosts due now.
        var due = Index.DueAt(nowMs);
        reports.AddRange(await Task.WhenAll(due.Select(id => Host(id).Advance(nowMs))));
        var updates = Absorb(reports, events);

        // (2b) Drains and faults from the timeline, zone failures, then the patch cycle's in-window replacements.
        updates.AddRange(await DrainAndFail(nowMs, drains, failedNow, events));
        updates.AddRange(await StopTasks(nowMs, userStops, events));
        updates.AddRange(await GrantPatchDrains(nowMs, events));
        updates.AddRange(await Consolidate(nowMs, events));
        var fleetServices = await UpdateFleet();
        foreach (var protection in protections)
        {
            // In timeline order; the service acts on it in this tick's reconciliation.
            await Service(protection.Service).SetTaskProtection(nowMs, protection);
            s.ServicesWaiting.Add(protection.Service);
        }

        // (3) Services with news, or all of them on the first tick.
        var unplaceable = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await Reconcile(nowMs, updates, serviceUpdates, unplaceable, firstTick ? null : fleetServices, events);

        // (4, 5) Placement and dispatch; permanently unplaceable service tasks are handed back to their services.
        await PlaceAndDispatch(nowMs, events, unplaceable);
        if (unplaceable.Count > 0)
        {
            await Reconcile(nowMs, [], [], unplaceable, NoServices, events);
        }

        var next = Index.NextDueMs;
        if (s.Pending.Count > 0 || s.ServicesWaiting.Count > 0)
        {
            // Tasks wait for capacity or services for launch allowance: the next workflow cycle is the next tick.
            next = Math.Min(next, nowMs + setup.Run.TickMs);
        }
        foreach (var recover in s.FailedZones.Values)
        {
            next = Math.Min(next, recover);
        }
        foreach (var wake in s.ServiceWakeAtMs.Values)
        {
            next = Math.Min(next, wake);
        }
        next = Math.Min(next, NextConsolidationMs());
        return new ShardTick(NextTick(next, nowMs, setup.Run.TickMs), events);
    }

    /// <summary>
    /// Timeline drains and faults (manual drain, scheduled maintenance, Spot warning, lost agent) and zone failures:
    /// every host of a failed zone, and its Fargate pool's tasks, are lost at once.
    /// </summary>
    private async Task<List<TaskUpdate>> DrainAndFail(long nowMs, List<DrainInstanceAction> drains, List<string> failedZones, List<SimEvent> events)
    {
        var s = state.State;
        var calls = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var drain in drains)
        {
            var id = drain.Instance == "any"
                ? s.Hosts.Where(kv => kv.Value.Status == InstanceStates.Active && !calls.ContainsKey(kv.Key))
                    .OrderBy(kv => kv.Value.LaunchedAtMs).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).FirstOrDefault()
                : drain.Instance;
            if (id is not null && s.Hosts.TryGetValue(id, out var view) && view.Status != InstanceStates.Terminated)
            {
                calls.TryAdd(id, drain.Reason);
            }
        }
        foreach (var zone in failedZones)
        {
            foreach (var id in s.HostZone.Where(kv => kv.Value == zone && s.HostDue.ContainsKey(kv.Key)).Select(kv => kv.Key))
            {
                if (!s.Hosts.TryGetValue(id, out var view) || view.Status != InstanceStates.Terminated)
                {
                    calls[id] = DrainReasons.ZoneFailure;
                }
            }
        }
        if (calls.Count == 0)
        {
            return [];
        }
        var reports = await Task.WhenAll(calls.Select(kv => Host(kv.Key).Drain(nowMs, kv.Value)));
        return Absorb(reports, events);
    }

    /// <summary>
    /// The patch cycle's in-window replacements, at most <c>maxConcurrentReplacements</c> draining at once per
    /// capacity provider (0 = no bound), oldest hosts first. A host not granted this window asks again in the
    /// next one, or is replaced anyway from day 21.
    /// </summary>
    private async Task<List<TaskUpdate>> GrantPatchDrains(long nowMs, List<SimEvent> events)
    {
        var grants = new List<string>();
        foreach (var cp in Setup.Cluster.CapacityProviders.Where(cp => cp.Type == CapacityType.ManagedInstances))
        {
            if (!Index.AnyWantingPatchGrant(cp.Name))
            {
                continue;
            }
            var limit = cp.PatchCycle.MaxConcurrentReplacements;
            var wanting = Index.WantingPatchGrant(cp.Name);
            grants.AddRange(limit == 0 ? wanting : wanting.Take(Math.Max(0, limit - Index.DrainingFor(cp.Name, DrainReasons.PatchDay14))));
        }
        if (grants.Count == 0)
        {
            return [];
        }
        var reports = await Task.WhenAll(grants.Order(StringComparer.Ordinal).Select(id => Host(id).GrantPatchDrain(nowMs)));
        return Absorb(reports, events);
    }

    /// <summary>
    /// Consolidation (Managed Instances infrastructure optimization, <see cref="Consolidation"/>): hosts underused for
    /// the provider's delay are drained with reason <c>consolidation</c> when their tasks fit on the other hosts, never
    /// while the provider's tasks wait for capacity, at most <c>maxConcurrent</c> at a time per provider.
    /// </summary>
    private async Task<List<TaskUpdate>> Consolidate(long nowMs, List<SimEvent> events)
    {
        if (NextConsolidationMs() > nowMs)
        {
            return [];
        }
        var s = state.State;
        var pinned = ProtectedHostSet();
        var picks = new List<string>();
        foreach (var cp in Setup.Cluster.CapacityProviders.Where(cp => cp.Type == CapacityType.ManagedInstances && cp.InfrastructureOptimization.Enabled))
        {
            var draining = Index.DrainingFor(cp.Name, DrainReasons.Consolidation);
            var waiting = s.Pending.Any(p => p.CapacityProvider == cp.Name);
            if (waiting || (draining > 0 && cp.InfrastructureOptimization.MaxConcurrent <= draining))
            {
                // Nothing can be picked, and no candidate is marked as lacking room: the hosts need not be looked at.
                continue;
            }
            var hosts = s.Hosts.Where(kv => kv.Value.CapacityProvider == cp.Name).ToList();
            var uses = hosts.Select(kv => UseOf(kv.Key, kv.Value, pinned)).ToList();
            var picked = Consolidation.Pick(uses, nowMs, cp.InfrastructureOptimization, draining, waiting);
            picks.AddRange(picked);
            if (draining == 0 && !waiting)
            {
                // Due candidates left alone had no room for their tasks: they wait until the fleet changes, rather
                // than being looked at again every tick.
                foreach (var use in uses.Where(u => Consolidation.DueMs(u, cp.InfrastructureOptimization) <= nowMs && !picked.Contains(u.Id)))
                {
                    s.Hosts[use.Id].ConsolidationBlockedAt = s.ConsolidationVersion;
                }
            }
        }
        s.ConsolidationCachedAt = -1;
        if (picks.Count == 0)
        {
            return [];
        }
        var reports = await Task.WhenAll(picks.Order(StringComparer.Ordinal).Select(id => Host(id).Drain(nowMs, DrainReasons.Consolidation)));
        return Absorb(reports, events);
    }

    /// <summary>
    /// The earliest time a host becomes a consolidation candidate, or never. Recomputed only after something it
    /// depends on changed; a candidate blocked for lack of room counts again once anything changes.
    /// </summary>
    private long NextConsolidationMs()
    {
        var s = state.State;
        if (s.ConsolidationCachedAt == s.ConsolidationVersion)
        {
            return s.ConsolidationDueMs;
        }
        var next = long.MaxValue;
        HashSet<string>? pinned = null;
        foreach (var id in Index.Underused)
        {
            var view = s.Hosts[id];
            if (view.UnderusedSinceMs == long.MaxValue || view.Status != InstanceStates.Active || view.ConsolidationBlockedAt == s.ConsolidationVersion)
            {
                continue;
            }
            var spec = Provider(view.CapacityProvider).InfrastructureOptimization;
            next = Math.Min(next, Consolidation.DueMs(UseOf(id, view, pinned ??= ProtectedHostSet()), spec));
        }
        s.ConsolidationDueMs = next;
        s.ConsolidationCachedAt = s.ConsolidationVersion;
        return next;
    }

    private static HostUse UseOf(string id, HostView view, HashSet<string> protectedHosts) =>
        new(id, view.Zone, view.Status == InstanceStates.Active, view.LaunchedAtMs, view.Registered, view.Free, view.UnderusedSinceMs,
            view.Standalone || protectedHosts.Contains(id));

    private HashSet<string> ProtectedHostSet() =>
        state.State.ProtectedHosts.Values.SelectMany(h => h).ToHashSet(StringComparer.Ordinal);

    /// <summary>Follows a host's reserved share for consolidation (Managed Instances providers that have it on).</summary>
    private void TrackUse(string id, HostView view, InstanceSnapshot snapshot, string previousStatus)
    {
        var cp = Provider(view.CapacityProvider);
        var optimization = cp.InfrastructureOptimization;
        if (cp.Type != CapacityType.ManagedInstances || !optimization.Enabled)
        {
            return;
        }
        var standalone = snapshot.Groups.Any(g => g.StartsWith("family:", StringComparison.Ordinal));
        if (view.Free == snapshot.Free && view.Standalone == standalone && previousStatus == view.Status && view.Registered != default)
        {
            return;
        }
        view.Registered = new Resources(snapshot.Type.CpuUnits, snapshot.Type.MemoryMiB, snapshot.Type.Gpus);
        view.Free = snapshot.Free;
        view.Standalone = standalone;
        var eligible = view.Status == InstanceStates.Active && snapshot.Active;
        view.UnderusedSinceMs = Consolidation.UnderusedSince(view.UnderusedSinceMs, eligible,
            Consolidation.ReservedPercent(view.Registered, view.Free), optimization.UtilizationThreshold, _nowMs);
        Index.SetUnderused(id, view.UnderusedSinceMs != long.MaxValue);
        state.State.ConsolidationVersion++;
    }

    private CapacityProviderSpec Provider(string name) => Setup.Cluster.CapacityProviders.First(cp => cp.Name == name);

    private static readonly IReadOnlySet<string> NoServices = new HashSet<string>();

    /// <summary>
    /// Tells the services which hosts drain and which zones are up, when that changed, and returns the services told
    /// (they reconcile this tick). A change of zones concerns every service; a change of draining hosts concerns the
    /// services with tasks on a host that started draining, and those whose rebalancing waits for the fleet to change.
    /// To any other service the news changes nothing: none of its tasks is on those hosts, and its rebalancing is not
    /// waiting, so it is not called.
    /// </summary>
    private async Task<IReadOnlySet<string>> UpdateFleet()
    {
        var s = state.State;
        var setup = Setup;
        var zones = setup.Cluster.Zones.Where(z => !s.FailedZones.ContainsKey(z)).ToList();
        var zoneKey = string.Join(",", zones);
        IEnumerable<string> told;
        if (zoneKey != s.LastZones)
        {
            told = setup.Cluster.Services.Select(svc => svc.Name);
        }
        else if (s.DrainingToggled.Count > 0)
        {
            told = s.FleetAffected.Union(s.ServicesWatchingFleet, StringComparer.Ordinal).Where(ServicesByName.ContainsKey);
        }
        else
        {
            return NoServices;
        }
        var names = told.ToHashSet(StringComparer.Ordinal);
        s.LastZones = zoneKey;
        s.DrainingToggled.Clear();
        s.FleetAffected.Clear();
        if (names.Count == 0)
        {
            return NoServices;
        }
        var draining = Index.Draining.ToList();
        // Each service is told the zones it may use (its memberOf may pin it): rebalancing evens it over those only.
        await Task.WhenAll(names.Order(StringComparer.Ordinal).Select(name => Service(name).UpdateFleet(draining,
            MemberOfExpression.UsableZones(TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, ServicesByName[name].TaskDefinition)?.PlacementConstraints
                .FirstOrDefault(c => c.Type == PlacementConstraintType.MemberOf)?.Expression, zones),
            setup.Cluster.Rebalancing)));
        return names;
    }

    /// <summary>The cluster's services by name.</summary>
    private Dictionary<string, ServiceSpec> ServicesByName => _serviceSpecs ??= Setup.Cluster.Services.ToDictionary(svc => svc.Name, StringComparer.Ordinal);
    private Dictionary<string, ServiceSpec>? _serviceSpecs;

    /// <summary>Sorted views of the hosts (due times, draining, patch grants); rebuilt from the state after a reactivation.</summary>
    private HostIndex Index => _index ??= BuildIndex();
    private HostIndex? _index;

    private HostIndex BuildIndex()
    {
        var s = state.State;
        var index = new HostIndex();
        foreach (var (id, due) in s.HostDue)
        {
            index.SetDue(id, due);
        }
        foreach (var (id, view) in s.Hosts)
        {
            index.Set(id, Facts(view));
            index.SetUnderused(id, view.UnderusedSinceMs != long.MaxValue);
        }
        return index;
    }

    private static HostFacts Facts(HostView view) => new(view.CapacityProvider, view.Status, view.LaunchedAtMs, view.WantsDrain, view.DrainReason);

    private HostLifecyclePolicy Lifecycle(string capacityProvider)
    {
        var setup = Setup;
        var cp = setup.Cluster.CapacityProviders.First(c => c.Name == capacityProvider);
        return HostLifecyclePolicy.For(cp, setup.Run.CalendarStart ?? HostLifecyclePolicy.None.CalendarStart, setup.Run.Seed, setup.Run.TickMs);
    }

    /// <summary>The tick at or after <paramref name="dueMs"/>, strictly after now; never means never.</summary>
    public static long NextTick(long dueMs, long nowMs, long tickMs) =>
        dueMs == long.MaxValue ? long.MaxValue : Math.Max(nowMs + tickMs, SimulationGrain.AlignUp(dueMs, tickMs));

    /// <summary>
    /// Writes the grains this cluster called since its last checkpoint (the others have not changed), its
    /// placement grain, then itself.
    /// </summary>
    public async Task Checkpoint(long nowMs)
    {
        await Task.WhenAll(_calledHosts.Select(id => HostGrain(id).Checkpoint(nowMs))
            .Concat(_calledServices.Select(name => ServiceGrain(name).Checkpoint(nowMs)))
            .Concat(_calledBuckets.Select(name => BucketGrain(name).Checkpoint(nowMs)))
            .Append(Placement().Checkpoint(nowMs)));
        await state.WriteStateAsync();
        _calledHosts.Clear();
        _calledServices.Clear();
        _calledBuckets.Clear();
    }

    // Grains called since the last checkpoint. In memory only: after a reactivation every grain is at the last checkpoint.
    private readonly HashSet<string> _calledHosts = new(StringComparer.Ordinal);
    private readonly HashSet<string> _calledServices = new(StringComparer.Ordinal);
    private readonly HashSet<string> _calledBuckets = new(StringComparer.Ordinal);

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
                    var type = spec.ToInstanceType();
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
        s.HostProvider[id] = capacityProvider;
        return new InstanceLaunch(nowMs, id, Setup.Account, Setup.Cluster.Name, zone, capacityProvider, type, s.Ami, preRegistered, Fargate: false,
            Lifecycle(capacityProvider), Pipeline, Setup.Run.Runtime);
    }

    private LaunchPipeline Pipeline => Setup.Run.Pipeline ?? LaunchPipeline.Default;

    private CapacityType TypeOf(string capacityProvider) =>
        Setup.Cluster.CapacityProviders.First(cp => cp.Name == capacityProvider).Type;

    private IRateLimitBucketGrain Bucket(string bucket)
    {
        _calledBuckets.Add(bucket);
        return BucketGrain(bucket);
    }

    private IRateLimitBucketGrain BucketGrain(string bucket) =>
        GrainFactory.GetGrain<IRateLimitBucketGrain>(Keys.Bucket(Setup.Run.RunId, Setup.Account, bucket));

    private BucketLimit Limit(string bucket) => BucketNames.Limit(Setup.Limits, bucket);

    private SimEvent ThrottleEvent(long nowMs, string bucket, int requested, int granted) => new()
    {
        TimeMs = nowMs, Kind = EventKinds.Throttle, Account = Setup.Account, Cluster = Setup.Cluster.Name,
        Bucket = bucket, Requested = requested, Granted = granted,
    };

    /// <summary>
    /// RunTask (SPEC section 6): the call draws one token from the account's RunTask bucket (over it: a
    /// throttling error); count above 10 is an invalid-parameter error. The tasks then draw on the account's
    /// launch bucket of their capacity type (Fargate On-Demand or Spot; none on EC2, Managed Instances,
    /// External): tasks over it fail with a throttling reason, the others enter PROVISIONING.
    /// </summary>
    private async Task RunTask(long nowMs, RunTaskAction run, List<SimEvent> events)
    {
        var setup = Setup;
        var s = state.State;
        if (run.Count is < 1 or > BucketNames.RunTaskMaxCount)
        {
            // InvalidParameterException, before any bucket: the call is refused whole, no task is created. The loader
            // rejects such files, so this is reached by calls built elsewhere (generators, API clients).
            events.Add(new SimEvent
            {
                TimeMs = nowMs, Kind = EventKinds.ApiError, Account = setup.Account, Cluster = setup.Cluster.Name,
                Api = ApiErrors.RunTask, Error = ApiErrors.InvalidParameter, Requested = run.Count,
                Reason = $"count must be between 1 and {BucketNames.RunTaskMaxCount}, was {run.Count}",
            });
            return;
        }
        var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, run.TaskDefinition)
            ?? throw new InvalidOperationException($"unknown task definition {run.TaskDefinition}");
        if (run.TaskIds is { } admitted)
        {
            // Admitted by the API front door: the account drew its tokens at the start of the tick.
            if (admitted.Count < run.Count && BucketNames.LaunchBucket(TypeOf(run.CapacityProvider)) is { } refusedBy)
            {
                events.Add(ThrottleEvent(nowMs, refusedBy, run.Count, admitted.Count));
            }
            foreach (var id in admitted)
            {
                EnqueueStandalone(id, def, run, nowMs, events);
            }
            return;
        }
        var granted = await Bucket(BucketNames.RunTask).TryAcquire(nowMs, 1, Limit(BucketNames.RunTask));
        if (granted == 0)
        {
            events.Add(ThrottleEvent(nowMs, BucketNames.RunTask, 1, 0) with { Tasks = run.Count });
            return;
        }
        var count = run.Count;
        if (BucketNames.LaunchBucket(TypeOf(run.CapacityProvider)) is { } launchBucket)
        {
            count = await Bucket(launchBucket).TryAcquire(nowMs, run.Count, Limit(launchBucket));
            if (count < run.Count)
            {
                events.Add(ThrottleEvent(nowMs, launchBucket, run.Count, count) with { Tasks = run.Count - count });
            }
        }
        for (var i = 0; i < count; i++)
        {
            EnqueueStandalone($"run-{s.NextStandaloneNumber++:D5}", def, run, nowMs, events);
        }
    }

    private void EnqueueStandalone(string id, TaskDefinitionSpec def, RunTaskAction run, long nowMs, List<SimEvent> events)
    {
        var launch = TaskLaunches.Create(id, def, null, run.CapacityProvider, nowMs, Setup.Run.Seed, run.RunTime, loadBalancer: false, assignPublicIp: true);
        if (run.StartedBy is { } startedBy)
        {
            launch = launch with { StartedBy = startedBy };
        }
        Enqueue(launch, nowMs, events);
    }

    /// <summary>A task definition registered through the API: the cluster and its services know it from now on.</summary>
    private async Task AddTaskDefinition(TaskDefinitionSpec td)
    {
        var setup = Setup;
        if (setup.Cluster.TaskDefinitions.Any(d => d.Family == td.Family && d.Revision == td.Revision))
        {
            return;
        }
        state.State.Setup = setup with { Cluster = setup.Cluster with { TaskDefinitions = [.. setup.Cluster.TaskDefinitions, td] } };
        await Task.WhenAll(setup.Cluster.Services.Select(svc => Service(svc.Name).AddTaskDefinition(td)));
    }

    /// <summary>CreateService: the service starts with the current fleet and reconciles in this tick.</summary>
    private async Task CreateService(ServiceSpec spec)
    {
        var setup = Setup;
        var s = state.State;
        if (setup.Cluster.Services.Any(x => x.Name == spec.Name))
        {
            return;
        }
        var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, spec.TaskDefinition);
        var hasHealthCheck = def?.Containers.Any(c => c.Essential && c.HealthCheck is not null) ?? false;
        s.Setup = setup with { Cluster = setup.Cluster with { Services = [.. setup.Cluster.Services, spec] } };
        var service = Service(spec.Name);
        await service.Init(new ServiceSetup(setup.Account, setup.Cluster.Name, spec, hasHealthCheck, setup.Cluster.TaskDefinitions, setup.Run.Runtime?.Backoff));
        var draining = s.Hosts.Where(kv => kv.Value.Status == InstanceStates.Draining).Select(kv => kv.Key).ToList();
        var zones = setup.Cluster.Zones.Where(z => !s.FailedZones.ContainsKey(z)).ToList();
        await service.UpdateFleet(draining, zones, setup.Cluster.Rebalancing);
        s.ServicesWaiting.Add(spec.Name);
    }

    /// <summary>
    /// StopTask: a task not yet placed stops at once; a placed one is stopped by its host (SIGTERM, then SIGKILL after
    /// its stopTimeout). A service learns from the host's report and replaces it. An unknown task is ignored.
    /// </summary>
    private async Task<List<TaskUpdate>> StopTasks(long nowMs, List<StopTaskAction> stops, List<SimEvent> events)
    {
        if (stops.Count == 0)
        {
            return [];
        }
        var s = state.State;
        var byHost = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var stop in stops)
        {
            var pending = s.Pending.FindIndex(p => p.TaskId == stop.Task);
            if (pending >= 0 && s.Pending[pending].Service is null)
            {
                var launch = s.Pending[pending];
                s.Pending.RemoveAt(pending);
                events.Add(TaskEvent(nowMs, launch, TaskStates.Stopped, null, null, stop.Reason));
                continue;
            }
            foreach (var host in stop.Host is { } h && s.HostDue.ContainsKey(h) ? [h] : (IEnumerable<string>)s.HostDue.Keys)
            {
                (byHost.TryGetValue(host, out var list) ? list : byHost[host] = []).Add(stop.Task);
            }
            reasons[stop.Task] = stop.Reason;
        }
        var reports = new List<HostReport>();
        // One reason per call: hosts stop each reason's tasks in turn, in host order.
        foreach (var reason in reasons.Values.Distinct().Order(StringComparer.Ordinal))
        {
            reports.AddRange(await Task.WhenAll(byHost.Where(kv => kv.Value.Any(t => reasons[t] == reason)).Select(kv =>
                Host(kv.Key).Stop(nowMs, kv.Value.Where(t => reasons[t] == reason).ToList(), reason))));
        }
        return Absorb(reports, events);
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
        Cpu = taskState == TaskStates.Provisioning ? launch.Need.Cpu : 0,
        MemoryMiB = taskState == TaskStates.Provisioning ? launch.Need.MemoryMiB : 0,
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
            Index.SetDue(r.InstanceId, r.NextDueMs);
            if (!r.Snapshot.Type.Family.Equals("fargate", StringComparison.Ordinal))
            {
                s.Changed[r.InstanceId] = r.Snapshot;
                if (!s.Hosts.TryGetValue(r.InstanceId, out var view))
                {
                    s.Hosts[r.InstanceId] = view = new HostView { CapacityProvider = r.Snapshot.CapacityProvider, Zone = r.Snapshot.Zone };
                }
                var previousStatus = view.Status;
                view.Status = r.Status;
                view.LaunchedAtMs = r.LaunchedAtMs;
                view.WantsDrain = r.WantsDrain;
                view.DrainReason = r.DrainReason;
                Index.Set(r.InstanceId, Facts(view));
                TrackDrain(r.InstanceId, previousStatus, view.Status, r.Snapshot);
                TrackUse(r.InstanceId, view, r.Snapshot, previousStatus);
            }
            foreach (var u in r.Updates)
            {
                updates.Add(u);
                if (u.State == TaskStates.Stopped)
                {
                    CountZone(u.Group, u.Zone, -1);
                    if (u.Service is not null && s.HostProvider.TryGetValue(r.InstanceId, out var cp))
                    {
                        CountProvider(u.Service, cp, -1);
                    }
                }
            }
        }
        return updates;
    }

    /// <summary>Notes a host starting or stopping to drain, and the services with tasks on it, for the next fleet update.</summary>
    private void TrackDrain(string id, string previousStatus, string status, InstanceSnapshot snapshot)
    {
        var was = previousStatus == InstanceStates.Draining;
        var now = status == InstanceStates.Draining;
        if (was == now)
        {
            return;
        }
        var s = state.State;
        if (!s.DrainingToggled.Remove(id))
        {
            s.DrainingToggled.Add(id);
        }
        if (now)
        {
            foreach (var group in snapshot.Groups)
            {
                s.FleetAffected.Add(group);
            }
        }
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

    private void CountProvider(string service, string capacityProvider, int delta)
    {
        var counts = state.State.ServiceProviderCounts;
        if (!counts.TryGetValue(service, out var perProvider))
        {
            counts[service] = perProvider = new SortedDictionary<string, int>(StringComparer.Ordinal);
        }
        perProvider[capacityProvider] = Math.Max(0, perProvider.GetValueOrDefault(capacityProvider) + delta);
    }

    /// <summary>
    /// Services reconcile in workflow cycles (SPEC section 6): each cycle a service may launch what its
    /// deployment-rate bucket and the account's launch buckets allow, and the rest of its shortfall waits for
    /// the next cycle. Services on instances only draw on their own bucket and reconcile in parallel;
    /// Fargate services share the account's buckets and go one by one in name order (after this cluster's
    /// RunTask calls; the account ticks its clusters in name order), so contention is settled by a fixed rule.
    /// </summary>
    private async Task Reconcile(long nowMs, List<TaskUpdate> updates, Dictionary<string, UpdateServiceAction> apiUpdates,
        Dictionary<string, List<string>> unplaceable, IReadOnlySet<string>? fleetServices, List<SimEvent> events)
    {
        var setup = Setup;
        var s = state.State;
        var byService = updates.Where(u => u.Service is not null).GroupBy(u => u.Service!).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var names = setup.Cluster.Services.Select(svc => svc.Name)
            .Where(n => fleetServices is null || fleetServices.Contains(n) || byService.ContainsKey(n) || apiUpdates.ContainsKey(n) || unplaceable.ContainsKey(n) || s.ServicesWaiting.Contains(n)
                || (s.ServiceWakeAtMs.TryGetValue(n, out var wake) && wake <= nowMs))
            .Order(StringComparer.Ordinal).ToList();
        var specs = names.Select(n => ServicesByName[n]).ToList();
        var results = new ServiceTick[names.Count];
        var available = new Dictionary<string, int>(StringComparer.Ordinal);

        Task<ServiceTick> Call(int i, int maxStarts) => Service(names[i]).Reconcile(nowMs,
            byService.TryGetValue(names[i], out var u) ? u : [],
            apiUpdates.GetValueOrDefault(names[i]),
            unplaceable.TryGetValue(names[i], out var lost) ? lost : [],
            maxStarts);

        var onInstances = Enumerable.Range(0, names.Count).Where(i => !UsesFargate(specs[i])).ToList();
        var onInstanceResults = await Task.WhenAll(onInstances.Select(i => Call(i, DeploymentTokens(specs[i], nowMs))));
        for (var k = 0; k < onInstances.Count; k++)
        {
            results[onInstances[k]] = onInstanceResults[k];
        }
        for (var i = 0; i < names.Count; i++)
        {
            if (!UsesFargate(specs[i]))
            {
                continue;
            }
            foreach (var bucket in specs[i].CapacityProviderStrategy.Select(x => BucketNames.LaunchBucket(TypeOf(x.CapacityProvider))).OfType<string>().Distinct())
            {
                if (!available.ContainsKey(bucket))
                {
                    available[bucket] = await Bucket(bucket).Available(nowMs, Limit(bucket));
                }
            }
            var deployTokens = DeploymentTokens(specs[i], nowMs);
            var (allowance, limitedBy) = FargateAllowance(specs[i], deployTokens, available);
            results[i] = await Call(i, allowance);
            foreach (var cp in CapacityProviderStrategies.Assign(specs[i].CapacityProviderStrategy, ProviderCounts(names[i]), results[i].Start.Count))
            {
                if (BucketNames.LaunchBucket(TypeOf(cp)) is { } used)
                {
                    available[used]--;
                }
            }
            var wanted = Math.Min(deployTokens, results[i].Start.Count + results[i].Backlog);
            if (limitedBy is not null && results[i].Backlog > 0 && wanted > results[i].Start.Count)
            {
                // The account's Fargate launch bucket held this service back: ECS reports it as throttling. One event
                // when the service's launch request is first cut back; the cycles after it (the same request waiting
                // for tokens) are not new rejections, until a cycle goes through unthrottled.
                if (s.ServicesThrottled.Add(names[i]))
                {
                    events.Add(ThrottleEvent(nowMs, limitedBy, wanted, results[i].Start.Count));
                }
            }
            else
            {
                s.ServicesThrottled.Remove(names[i]);
            }
        }
        unplaceable.Clear();

        var stops = new List<ServiceTaskRef>();
        var take = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            var spec = specs[i];
            var result = results[i];
            events.AddRange(result.Events);
            if (result.Backlog > 0)
            {
                s.ServicesWaiting.Add(spec.Name);
            }
            else
            {
                s.ServicesWaiting.Remove(spec.Name);
            }
            if (result.WatchesFleet)
            {
                s.ServicesWatchingFleet.Add(spec.Name);
            }
            else
            {
                s.ServicesWatchingFleet.Remove(spec.Name);
            }
            if (result.Doomed is { Count: > 0 } doomed)
            {
                s.DoomedZoneCounts[spec.Name] = doomed;
            }
            else
            {
                s.DoomedZoneCounts.Remove(spec.Name);
            }
            if (result.WakeAtMs != long.MaxValue)
            {
                s.ServiceWakeAtMs[spec.Name] = result.WakeAtMs;
            }
            else
            {
                s.ServiceWakeAtMs.Remove(spec.Name);
            }
            if (result.ProtectedInstances is { Count: > 0 } pinned)
            {
                if (!s.ProtectedHosts.TryGetValue(spec.Name, out var was) || !was.SequenceEqual(pinned))
                {
                    s.ProtectedHosts[spec.Name] = [.. pinned];
                    s.ConsolidationVersion++;
                }
            }
            else if (s.ProtectedHosts.Remove(spec.Name))
            {
                s.ConsolidationVersion++;
            }
            var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, result.TaskDefinition)
                ?? throw new InvalidOperationException($"unknown task definition {result.TaskDefinition}");
            var providers = CapacityProviderStrategies.Assign(spec.CapacityProviderStrategy, ProviderCounts(spec.Name), result.Start.Count);
            var templates = new Dictionary<string, (TaskLaunchTemplate Template, string? Bucket, int Count)>(StringComparer.Ordinal);
            s.Pending.EnsureCapacity(s.Pending.Count + result.Start.Count);
            events.EnsureCapacity(events.Count + result.Start.Count);
            for (var k = 0; k < result.Start.Count; k++)
            {
                var cp = providers[k];
                if (!templates.TryGetValue(cp, out var template))
                {
                    template = (TaskLaunches.Template(def, spec.Name, cp, null, spec.LoadBalancer, spec.AssignPublicIp), BucketNames.LaunchBucket(TypeOf(cp)), 0);
                }
                templates[cp] = template with { Count = template.Count + 1 };
                Enqueue(template.Template.Create(result.Start[k], nowMs, setup.Run.Seed), nowMs, events);
            }
            // Counted once per provider: the same counts as one task at a time.
            foreach (var (cp, template) in templates)
            {
                CountProvider(spec.Name, cp, template.Count);
                if (template.Bucket is { } bucket)
                {
                    take[bucket] = take.GetValueOrDefault(bucket) + template.Count;
                }
            }
            if (result.Start.Count > 0)
            {
                TakeDeploymentTokens(spec, nowMs, result.Start.Count);
            }
            stops.AddRange(result.Stop);
        }
        foreach (var (bucket, n) in take)
        {
            // Within what Available reported in this same sequential flow, so always granted in full.
            await Bucket(bucket).TryAcquire(nowMs, n, Limit(bucket));
        }
        foreach (var group in stops.GroupBy(x => x.Reason).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            await Stop(nowMs, group.ToList(), group.Key, events);
        }
    }

    private bool UsesFargate(ServiceSpec spec) => spec.CapacityProviderStrategy.Any(x => TaskLaunches.IsFargate(TypeOf(x.CapacityProvider)));

    private IReadOnlyDictionary<string, int> ProviderCounts(string service) =>
        state.State.ServiceProviderCounts.TryGetValue(service, out var c) ? c : new SortedDictionary<string, int>(StringComparer.Ordinal);

    private BucketLimit DeploymentLimit(ServiceSpec spec) =>
        BucketNames.DeploymentLimit(Limit(BucketNames.DeploymentBucket(TypeOf(spec.CapacityProviderStrategy[0].CapacityProvider))), Setup.Run.TickMs);

    private int DeploymentTokens(ServiceSpec spec, long nowMs) =>
        LaunchAllowance.DeploymentTokens(state.State.DeploymentBuckets, spec.Name, DeploymentLimit(spec), nowMs);

    private void TakeDeploymentTokens(ServiceSpec spec, long nowMs, int n) =>
        LaunchAllowance.TakeDeploymentTokens(state.State.DeploymentBuckets, spec.Name, DeploymentLimit(spec), nowMs, n);

    private (int Allowance, string? LimitedBy) FargateAllowance(ServiceSpec spec, int deployTokens, IReadOnlyDictionary<string, int> availableNow) =>
        LaunchAllowance.Fargate(spec.CapacityProviderStrategy, ProviderCounts(spec.Name), deployTokens, availableNow, cp => BucketNames.LaunchBucket(TypeOf(cp)));

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
                if (launch.Service is not null)
                {
                    CountProvider(launch.Service, launch.CapacityProvider, -1);
                }
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
        await PlaceOnFargate(nowMs, fargate, dispatch, launches);

        var allowance = ScalingAllowance(nowMs, hosted);
        var result = await Placement().Place(nowMs, new PlacementRequest(
            ToPending(hosted), snapshots,
            ZoneSpread.WithoutDoomed(s.GroupZoneCounts, s.DoomedZoneCounts, setup.Cluster.Zones),
            s.FailedZones.Keys.ToList(), s.NextInstanceNumber, allowance));
        var plan = result.Plan;
        foreach (var cp in plan.NewInstances.Select(n => n.CapacityProvider).Distinct().Where(allowance.ContainsKey))
        {
            s.ScaleOutAllowedAtMs[cp] = nowMs + (long)Pipeline.ManagedScalingInterval.TotalMilliseconds;
        }
        if (result.Shards is { } shards)
        {
            ShardedPlacementEvents.Append(events, nowMs, nowMs / setup.Run.TickMs, setup.Account, setup.Cluster.Name, shards);
        }
        else if (hosted.Count > 0)
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
            s.HostProvider[id] = request.CapacityProvider;
            launches[id] = new InstanceLaunch(nowMs, id, setup.Account, setup.Cluster.Name, request.Zone, request.CapacityProvider, request.Type, s.Ami, false, false,
                Lifecycle(request.CapacityProvider), Pipeline, setup.Run.Runtime);
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
                batch = (dispatch.TryGetValue(a.InstanceId, out var list) ? list : dispatch[a.InstanceId] = [], IndexOf(setup.Cluster.Zones, s.HostZone[a.InstanceId]));
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
        var s = state.State;
        var allowance = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var cp in Setup.Cluster.CapacityProviders.Where(cp => cp.Type == CapacityType.Ec2))
        {
            if (!hosted.Any(t => t.CapacityProvider == cp.Name))
            {
                continue;
            }
            var current = s.HostProvider.Count(kv => kv.Value == cp.Name);
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
        var s = state.State;
        var zones = Setup.Cluster.Zones;
        var spot = tasks.Count(t => TypeOf(t.CapacityProvider) == CapacityType.FargateSpot && s.FailedZones.Count < zones.Count);
        var spotReady = spot == 0
            ? []
            : await Bucket(SpotCapacityBucket).Reserve(nowMs, spot, new BucketLimit(Math.Max(1, Pipeline.SpotCapacityWarmTasks), Pipeline.SpotCapacityPerSecond));
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
            if (TypeOf(task.CapacityProvider) == CapacityType.FargateSpot)
            {
                task = task with { CapacityReadyAtMs = spotReady[nextSpot++] };
            }
            var id = $"fargate-{task.CapacityProvider}-{zones[best]}";
            if (!s.HostDue.ContainsKey(id) && !launches.ContainsKey(id))
            {
                s.HostZone[id] = zones[best];
                s.HostProvider[id] = task.CapacityProvider;
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

    private IServiceGrain Service(string name)
    {
        _calledServices.Add(name);
        return ServiceGrain(name);
    }

    private IContainerInstanceGrain Host(string id)
    {
        _calledHosts.Add(id);
        return HostGrain(id);
    }

    // Grain references by name: resolving one costs far more than a lookup, and a tick calls thousands of hosts.
    // In memory only; a reference is the same whatever activation resolved it.
    private readonly Dictionary<string, IServiceGrain> _serviceGrains = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IContainerInstanceGrain> _hostGrains = new(StringComparer.Ordinal);

    private IServiceGrain ServiceGrain(string name)
    {
        if (!_serviceGrains.TryGetValue(name, out var grain))
        {
            _serviceGrains[name] = grain = GrainFactory.GetGrain<IServiceGrain>(Keys.Child(Key, "svc/" + name));
        }
        return grain;
    }

    private IContainerInstanceGrain HostGrain(string id)
    {
        if (!_hostGrains.TryGetValue(id, out var grain))
        {
            _hostGrains[id] = grain = GrainFactory.GetGrain<IContainerInstanceGrain>(Keys.Child(Key, id));
        }
        return grain;
    }
    private IPlacementGrain Placement() => GrainFactory.GetGrain<IPlacementGrain>(Key);
}
