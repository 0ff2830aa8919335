using Scheduler.Core.Batch;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Placement;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Cluster;

/// <summary>
/// One cluster's scheduling tick as a pure model: it reads the cluster's book at the time it is given, decides what
/// each wave of the tick does (which hosts advance, drain or get a patch grant, which services reconcile and with what
/// allowance, where pending tasks go, which hosts launch) and sends each wave as one batch through
/// <see cref="IClusterFleet"/>, then takes the reports into the book. Nothing here knows of grains: the cluster
/// grain supplies a fleet of grain calls, a test one of agents in memory.
/// </summary>
public sealed partial class ClusterStep(ClusterBook book, IClusterFleet fleet)
{
    private readonly ClusterBook _book = book;
    private readonly IClusterFleet _fleet = fleet;

    /// <summary>The simulated time of the tick in progress (host reports carry none).</summary>
    private long _nowMs;

    private ClusterSetup Setup => _book.Setup ?? throw new InvalidOperationException("cluster not initialised");

    private HostIndex Index => _book.Index();

    /// <summary>Sets the book up for <paramref name="setup"/> and initialises the cluster's placement view and services.</summary>
    public async Task Init(ClusterSetup setup)
    {
        _book.Setup = setup;
        _book.Ami = setup.Run.InitialAmi;
        await _fleet.InitPlacement(setup);
        await _fleet.InitServices(setup.Cluster.Services.Select(svc => ServiceSetupOf(setup, svc)).ToList());
    }

    private static ServiceSetup ServiceSetupOf(ClusterSetup setup, ServiceSpec svc)
    {
        var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, svc.TaskDefinition);
        var hasHealthCheck = def?.Containers.Any(c => c.Essential && c.HealthCheck is not null) ?? false;
        return new ServiceSetup(setup.Account, setup.Cluster.Name, svc, hasHealthCheck, setup.Cluster.TaskDefinitions, setup.Run.Runtime?.Backoff);
    }

    /// <summary>
    /// One tick at <paramref name="nowMs"/>: (1) timeline inputs, (2) hosts due now, then drains and faults, stops, patch
    /// grants and consolidation, and the fleet news for the services, (3) service reconciliation, (4) placement and
    /// (5) dispatch of the plan, one command per host with all its tasks.
    /// </summary>
    public async Task<ClusterTickResult> Tick(long nowMs, IReadOnlyList<TimelineAction> inputs)
    {
        var s = _book;
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
                case StartJobTasksAction jobs:
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
        reports.AddRange(await _fleet.Send(due.Select(id => (HostCommand)new AdvanceHost(id, nowMs)).ToList()));
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
            await _fleet.SetTaskProtection(protection.Service, nowMs, protection);
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
        return new ClusterTickResult(NextTick(next, nowMs, setup.Run.TickMs), events);
    }


    /// <summary>Takes host reports in id order: their events into the log, next due times, and task updates for the services.</summary>
    private List<TaskUpdate> Absorb(IEnumerable<HostReport> reports, List<SimEvent> events)
    {
        var s = _book;
        var updates = new List<TaskUpdate>();
        foreach (var r in reports.OrderBy(r => r.InstanceId, StringComparer.Ordinal))
        {
            events.AddRange(r.Events);
            var host = s.Host(r.InstanceId);
            host.DueMs = r.NextDueMs;
            Index.SetDue(r.InstanceId, r.NextDueMs);
            if (!r.Snapshot.Type.Family.Equals("fargate", StringComparison.Ordinal))
            {
                s.Changed[r.InstanceId] = r.Snapshot;
                if (host.View is not { } view)
                {
                    host.View = view = new HostView { CapacityProvider = r.Snapshot.CapacityProvider, Zone = r.Snapshot.Zone };
                }
                var previousStatus = view.Status;
                view.Status = r.Status;
                view.LaunchedAtMs = r.LaunchedAtMs;
                view.WantsDrain = r.WantsDrain;
                view.DrainReason = r.DrainReason;
                Index.Set(r.InstanceId, view.Facts());
                TrackDrain(r.InstanceId, previousStatus, view.Status, r.Snapshot);
                TrackUse(r.InstanceId, view, r.Snapshot, previousStatus);
            }
            foreach (var u in r.Updates)
            {
                updates.Add(u);
                if (u.State == TaskStates.Stopped)
                {
                    CountZone(u.Group, u.Zone, -1);
                    if (u.Service is not null && host.CapacityProvider.Length > 0)
                    {
                        CountProvider(u.Service, host.CapacityProvider, -1);
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
        var s = _book;
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
        var counts = _book.GroupZoneCounts;
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
        var counts = _book.ServiceProviderCounts;
        if (!counts.TryGetValue(service, out var perProvider))
        {
            counts[service] = perProvider = new SortedDictionary<string, int>(StringComparer.Ordinal);
        }
        perProvider[capacityProvider] = Math.Max(0, perProvider.GetValueOrDefault(capacityProvider) + delta);
    }


    private HostLifecyclePolicy Lifecycle(string capacityProvider)
    {
        var setup = Setup;
        var cp = setup.Cluster.CapacityProviders.First(c => c.Name == capacityProvider);
        return HostLifecyclePolicy.For(cp, setup.Run.CalendarStart ?? HostLifecyclePolicy.None.CalendarStart, setup.Run.Seed, setup.Run.TickMs);
    }

    /// <summary>The tick at or after <paramref name="dueMs"/>, strictly after now; never means never.</summary>
    public static long NextTick(long dueMs, long nowMs, long tickMs) =>
        dueMs == long.MaxValue ? long.MaxValue : Math.Max(nowMs + tickMs, AlignUp(dueMs, tickMs));

    /// <summary>The first tick at or after <paramref name="ms"/>.</summary>
    public static long AlignUp(long ms, long tickMs) => ms <= 0 ? 0 : (ms + tickMs - 1) / tickMs * tickMs;
}
