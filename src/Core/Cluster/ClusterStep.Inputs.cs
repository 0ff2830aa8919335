using Scheduler.Core.Batch;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Cluster;

public sealed partial class ClusterStep
{
    private async Task<IReadOnlyList<HostReport>> RegisterInitialInstances(long nowMs)
    {
        var setup = Setup;
        var s = _book;
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
        return launches.Count == 0 ? [] : await _fleet.Send(launches.Select(l => (HostCommand)new LaunchHost(l, [])).ToList());
    }

    /// <summary>The one place a new instance gets its id (the cluster's next instance number) and is entered in the book.</summary>
    private InstanceLaunch NewInstance(long nowMs, string capacityProvider, InstanceType type, string zone, bool preRegistered)
    {
        var s = _book;
        var id = ClusterBook.InstanceId(s.NextInstanceNumber++);
        var host = s.Host(id);
        host.Zone = zone;
        host.CapacityProvider = capacityProvider;
        return new InstanceLaunch(nowMs, id, Setup.Account, Setup.Cluster.Name, zone, capacityProvider, type, s.Ami, preRegistered, Fargate: false,
            Lifecycle(capacityProvider), Pipeline, Setup.Run.Runtime);
    }

    private LaunchPipeline Pipeline => Setup.Run.Pipeline ?? LaunchPipeline.Default;

    private CapacityType TypeOf(string capacityProvider) =>
        Setup.Cluster.CapacityProviders.First(cp => cp.Name == capacityProvider).Type;

    private CapacityTypeTraits Traits(string capacityProvider) => CapacityTypes.Of(TypeOf(capacityProvider));

    private string? LaunchBucketOf(string capacityProvider) => Traits(capacityProvider).LaunchBucket;

    private BucketLimit Limit(string bucket) => BucketNames.Limit(Setup.Limits, bucket);

    private SimEvent ThrottleEvent(long nowMs, string bucket, int requested, int granted) => new()
    {
        TimeMs = nowMs, Kind = EventKinds.Throttle, Account = Setup.Account, Cluster = Setup.Cluster.Name,
        Bucket = bucket, Requested = requested, Granted = granted,
    };

    /// <summary>
    /// RunTask: the call draws one token from the account's RunTask bucket (over it: a
    /// throttling error); count above 10 is an invalid-parameter error. The tasks then draw on the account's
    /// launch bucket of their capacity type (Fargate On-Demand or Spot; none on EC2, Managed Instances,
    /// External): tasks over it fail with a throttling reason, the others enter PROVISIONING.
    /// </summary>
    private async Task RunTask(long nowMs, RunTaskAction run, List<SimEvent> events)
    {
        var setup = Setup;
        var s = _book;
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
            if (admitted.Count < run.Count && LaunchBucketOf(run.CapacityProvider) is { } refusedBy)
            {
                events.Add(ThrottleEvent(nowMs, refusedBy, run.Count, admitted.Count));
            }
            foreach (var id in admitted)
            {
                EnqueueStandalone(id, def, run, nowMs, events);
            }
            return;
        }
        var granted = await _fleet.TryAcquire(BucketNames.RunTask, nowMs, 1, Limit(BucketNames.RunTask));
        if (granted == 0)
        {
            events.Add(ThrottleEvent(nowMs, BucketNames.RunTask, 1, 0) with { Tasks = run.Count });
            return;
        }
        var count = run.Count;
        if (LaunchBucketOf(run.CapacityProvider) is { } launchBucket)
        {
            count = await _fleet.TryAcquire(launchBucket, nowMs, run.Count, Limit(launchBucket));
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
        _book.Setup = setup with { Cluster = setup.Cluster with { TaskDefinitions = [.. setup.Cluster.TaskDefinitions, td] } };
        await _fleet.AddTaskDefinition(setup.Cluster.Services.Select(svc => svc.Name).ToList(), td);
    }

    /// <summary>CreateService: the service starts with the current fleet and reconciles in this tick.</summary>
    private async Task CreateService(ServiceSpec spec)
    {
        var setup = Setup;
        var s = _book;
        if (setup.Cluster.Services.Any(x => x.Name == spec.Name))
        {
            return;
        }
        var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, spec.TaskDefinition);
        var hasHealthCheck = def?.Containers.Any(c => c.Essential && c.HealthCheck is not null) ?? false;
        s.Setup = setup with { Cluster = setup.Cluster with { Services = [.. setup.Cluster.Services, spec] } };
        await _fleet.InitServices([new ServiceSetup(setup.Account, setup.Cluster.Name, spec, hasHealthCheck, setup.Cluster.TaskDefinitions, setup.Run.Runtime?.Backoff)]);
        var draining = s.Views().Where(kv => kv.Value.Status == InstanceStates.Draining).Select(kv => kv.Key).ToList();
        var zones = setup.Cluster.Zones.Where(z => !s.FailedZones.ContainsKey(z)).ToList();
        await _fleet.UpdateFleet([new FleetNews(spec.Name, draining, zones, setup.Cluster.Rebalancing)]);
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
        var s = _book;
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
            foreach (var host in stop.Host is { } h && s.HasReported(h) ? [h] : s.Reported())
            {
                (byHost.TryGetValue(host, out var list) ? list : byHost[host] = []).Add(stop.Task);
            }
            reasons[stop.Task] = stop.Reason;
        }
        var reports = new List<HostReport>();
        // One reason per call: hosts stop each reason's tasks in turn, in host order.
        foreach (var reason in reasons.Values.Distinct().Order(StringComparer.Ordinal))
        {
            reports.AddRange(await _fleet.Send(byHost.Where(kv => kv.Value.Any(t => reasons[t] == reason)).Select(kv =>
                (HostCommand)new StopHostTasks(kv.Key, nowMs, kv.Value.Where(t => reasons[t] == reason).ToList(), reason)).ToList()));
        }
        return Absorb(reports, events);
    }

    private void Enqueue(TaskLaunch launch, long nowMs, List<SimEvent> events)
    {
        _book.Pending.Add(launch);
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

    /// <summary>
    /// The RunTask calls the account's job queues made this tick (their RunTask and launch tokens are drawn
    /// already): each task enters PROVISIONING like any RunTask task, with its job as <c>startedBy</c>, and is
    /// placed in this tick.
    /// </summary>
    private void StartJobTasks(long nowMs, StartJobTasksAction start, List<SimEvent> events)
    {
        var setup = Setup;
        var s = _book;
        foreach (var call in start.Calls)
        {
            var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, call.TaskDefinition)
                ?? throw new InvalidOperationException($"unknown task definition {call.TaskDefinition}");
            var templates = new Dictionary<string, TaskLaunchTemplate>(StringComparer.Ordinal);
            foreach (var task in call.Tasks)
            {
                if (!templates.TryGetValue(task.CapacityProvider, out var template))
                {
                    templates[task.CapacityProvider] = template =
                        TaskLaunches.Template(def, null, task.CapacityProvider, call.RunTime, loadBalancer: false, assignPublicIp: true);
                }
                var id = $"run-{s.NextStandaloneNumber++:D5}";
                Enqueue(template.Create(id, nowMs, setup.Run.Seed) with { StartedBy = task.StartedBy }, nowMs, events);
            }
        }
    }
}
