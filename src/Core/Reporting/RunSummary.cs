using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Reporting;

public sealed record Percentiles(double P50, double P90, double P99, double Max);

/// <summary>Time-averaged reservation of the instances' registered cpu and memory, in percent.</summary>
public sealed record Utilisation(double CpuPercent, double MemoryPercent);

/// <summary>summary.json. Property names are the contract; simulated times in seconds.</summary>
public sealed record RunSummary
{
    public required string Scenario { get; init; }
    public required long Seed { get; init; }
    public required int TasksLaunched { get; init; }
    public required SortedDictionary<string, int> TasksStoppedByReason { get; init; }
    public required int Unplaceable { get; init; }
    public required Percentiles TimeToRunning { get; init; }
    public required SortedDictionary<string, int> PlacementsByPhase { get; init; }
    public required SortedDictionary<string, int> InstancesLaunched { get; init; }
    public required SortedDictionary<string, int> ReplacementsByReason { get; init; }
    public required double MaxInstanceAgeDays { get; init; }
    public required SortedDictionary<string, double> MinHealthyPercentDuringDrains { get; init; }
    public required int OomKills { get; init; }
    /// <summary>OOM kills by <c>scope</c>: <c>container</c> (over its own or its task's limit) and <c>host</c> (the host's OOM killer).</summary>
    public SortedDictionary<string, int> OomKillsByScope { get; init; } = new(StringComparer.Ordinal);
    /// <summary>Throttled requests per bucket: one per throttle event (a rejected RunTask call, a RunTask whose Fargate
    /// launches were cut, a service launch request first held back by a Fargate bucket; its waiting cycles after that are not counted again).</summary>
    public required SortedDictionary<string, int> Throttles { get; init; }
    /// <summary>Tasks refused at the moment of their throttled request, per launch bucket (sum of requested − granted of its throttle events).</summary>
    public SortedDictionary<string, int> ThrottledTasks { get; init; } = new(StringComparer.Ordinal);
    /// <summary>API calls refused for a bad parameter, by "api/error" (e.g. RunTask/InvalidParameterException).</summary>
    public SortedDictionary<string, int> ApiErrors { get; init; } = new(StringComparer.Ordinal);
    public required double InstanceHours { get; init; }
    /// <summary>Instance-hours at the catalog's hourly prices plus Fargate task time at the vCPU-hour and GB-hour prices (US dollars).</summary>
    public required decimal Cost { get; init; }
    /// <summary><see cref="Cost"/> split by capacity type (FARGATE, FARGATE_SPOT, EC2, MANAGED_INSTANCES, EXTERNAL).</summary>
    public SortedDictionary<string, decimal> CostByCapacityType { get; init; } = new(StringComparer.Ordinal);
    /// <summary>vCPU-hours and GB-hours of Fargate (On-Demand and Spot) tasks, billed from the image pull until the task stops.</summary>
    public double FargateVcpuHours { get; init; }
    public double FargateGbHours { get; init; }
    /// <summary>RunTask tasks that never started: their call was throttled or refused for a bad parameter, or their Fargate launch was throttled.</summary>
    public int RunTaskTasksRefused { get; init; }
    /// <summary>Reserved over registered resources of container instances, averaged over their lifetimes (percent).</summary>
    public required Utilisation ReservedUtilisation { get; init; }
    /// <summary>Tasks that reached RUNNING per simulated second, between the first and the last such event.</summary>
    public required double LaunchRate { get; init; }
    /// <summary>Tasks that became RUNNING and HEALTHY at least once.</summary>
    public required int TasksHealthy { get; init; }
    /// <summary>Simulated seconds at which the last task first became RUNNING and HEALTHY (the launch benchmark's end point).</summary>
    public required double LastHealthyAt { get; init; }
    /// <summary>Batch jobs (single jobs, array parents, array children) by their last state.</summary>
    public SortedDictionary<string, int> JobsByState { get; init; } = new(StringComparer.Ordinal);
    /// <summary>Seconds job tasks waited in their queue: from RUNNABLE to STARTING, per attempt.</summary>
    public Percentiles JobQueueWait { get; init; } = new(0, 0, 0, 0);
    /// <summary>The same by queue ("account/cluster/queue").</summary>
    public SortedDictionary<string, Percentiles> JobQueueWaitByQueue { get; init; } = new(StringComparer.Ordinal);
    /// <summary>How fast the job queues drained into RunTask.</summary>
    public JobDrainSummary JobDrain { get; init; } = new(0, 0, 0, 0, 0, 0);
    public required double SimulatedSeconds { get; init; }
    public required double WallSeconds { get; init; }
    public required long Ticks { get; init; }
    public required long Events { get; init; }
    public required double EventsPerWallSecond { get; init; }
    /// <summary>The run was stopped before its end (SIGINT, SIGTERM); the figures cover the simulated time up to then.</summary>
    public bool Interrupted { get; init; }
    /// <summary>What stopped an interrupted run ("SIGINT", "SIGTERM"); null when it was not interrupted.</summary>
    public string? InterruptReason { get; init; }
    /// <summary>An <c>until: settled</c> run that had not settled when it reached the scenario's <c>maxDuration</c>.</summary>
    public bool HitMaxDuration { get; init; }
    /// <summary>Silos of the cluster the run ran on.</summary>
    public int Silos { get; init; }
    /// <summary>The run's grain activations on each silo (by silo endpoint) at the end of the run.</summary>
    public SortedDictionary<string, int> ActivationsPerSilo { get; init; } = new(StringComparer.Ordinal);
    /// <summary>Messages the silos sent to one another over the network during the run (Orleans's own counters).</summary>
    public long CrossSiloMessages { get; init; }
    /// <summary>Checkpoints committed to the store, and their wall time in all.</summary>
    public long Checkpoints { get; init; }
    public double CheckpointSeconds { get; init; }
    /// <summary>Grain states written to the store (by all silos, checkpoints and initial states), and the time those writes took summed over the grains.</summary>
    public long CheckpointWrites { get; init; }
    public double CheckpointWriteSeconds { get; init; }
    /// <summary>Times the run resumed from its last checkpoint after a silo failed, and the wall time it waited for that.</summary>
    public int Resumes { get; init; }
    public double StalledSeconds { get; init; }
    /// <summary>Sharded placement: claims refused at commit because another scheduler changed the instance.</summary>
    public int PlacementConflicts { get; init; }
    /// <summary>Sharded placement: attempts of tasks whose previous claim had conflicted.</summary>
    public int PlacementRetries { get; init; }
    /// <summary>Conflicts over placement attempts (placed plus conflicting claims).</summary>
    public double ConflictFraction { get; init; }
    /// <summary>Tasks placed by each placement scheduler of sharded clusters, by shard number (empty with one scheduler).</summary>
    public SortedDictionary<string, int> PlacedByShard { get; init; } = new(StringComparer.Ordinal);
    /// <summary>At the end of the run, the largest difference over services between their fullest and emptiest zone (RUNNING tasks).</summary>
    public int ZoneSkew { get; init; }
}

/// <summary>Builds the summary from the event stream alone, so that it says exactly what the log says.</summary>
public sealed class SummaryBuilder(InstanceTypeCatalog catalog, Scenario? scenario = null, FargatePricing? pricing = null)
{
    private readonly RunFleet _fleet = new(catalog, scenario);
    private readonly FargatePricing _pricing = pricing ?? FargatePricing.Default;
    /// <summary>Fargate tasks being billed: task key to (billed since, vCPU, GB, Spot).</summary>
    private readonly Dictionary<string, (long SinceMs, double Vcpu, double Gb, bool Spot)> _fargateBilled = new(StringComparer.Ordinal);
    private double _fargateVcpuMs, _fargateGbMs, _spotVcpuMs, _spotGbMs;
    private int _runTaskRefused;
    private readonly Dictionary<string, long> _created = new(StringComparer.Ordinal);
    private readonly List<long> _timeToRunning = [];
    private readonly HashSet<string> _running = new(StringComparer.Ordinal);
    private readonly HashSet<string> _healthy = new(StringComparer.Ordinal);
    // Counted as they happen: the sets above hold live tasks only (a stopped task leaves them), so a long run's memory stays flat.
    private int _launched, _ranCount, _healthyCount;
    private long _lastHealthyMs;
    private readonly SortedDictionary<string, int> _stopped = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _phases = new(StringComparer.Ordinal) { ["1"] = 0, ["2"] = 0, ["3"] = 0 };
    private readonly SortedDictionary<string, int> _instancesLaunched = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _replacements = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _throttles = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _throttledTasks = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _apiErrors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long LaunchedMs, string Type, long EndMs, string Capacity)> _instances = new(StringComparer.Ordinal);
    private readonly HashSet<string> _drainingHosts = new(StringComparer.Ordinal);
    /// <summary>Live service tasks: task key to (service key, host key).</summary>
    private readonly Dictionary<string, (string Service, string Host)> _taskHosts = new(StringComparer.Ordinal);
    /// <summary>Per host, how many live tasks each service has on it.</summary>
    private readonly Dictionary<string, Dictionary<string, int>> _hostServices = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, double> _minHealthyDuringDrains = new(StringComparer.Ordinal);
    private int _unplaceable;
    private int _ooms;
    private readonly SortedDictionary<string, int> _oomScopes = new(StringComparer.Ordinal);
    private long _events;
    private readonly JobSummaryBuilder _jobs = new();
    private readonly PlacementFigures _placement = new(scenario);
    private long _firstRunningMs = -1;
    private long _lastRunningMs;
    /// <summary>Created tasks' reservations, and those of tasks now on an instance (by task key).</summary>
    private readonly Dictionary<string, (int Cpu, long Memory)> _needs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Cpu, long Memory)> _onInstance = new(StringComparer.Ordinal);
    private long _reservedCpu, _reservedMemory, _registeredCpu, _registeredMemory, _integratedAtMs;
    private double _reservedCpuMs, _reservedMemoryMs, _registeredCpuMs, _registeredMemoryMs;

    /// <summary>Each task's time from creation to its first RUNNING, in simulated milliseconds, in the order they got there.</summary>
    public IReadOnlyList<long> TimeToRunningMs => _timeToRunning;

    /// <summary>The run's host shapes and capacity types, as this builder resolves them.</summary>
    public RunFleet Fleet => _fleet;

    /// <summary>Cpu units and MiB reserved by tasks on instances, and registered by the instances, as of the last event.</summary>
    public (long ReservedCpu, long ReservedMemory, long RegisteredCpu, long RegisteredMemory) Reservations =>
        (_reservedCpu, _reservedMemory, _registeredCpu, _registeredMemory);

    public void Observe(SimEvent e)
    {
        _events++;
        Integrate(e.TimeMs);
        _placement.Observe(e);
        switch (e.Kind)
        {
            case EventKinds.Task:
                ObserveTask(e);
                break;
            case EventKinds.Placement:
                _phases[e.Phase.ToString(System.Globalization.CultureInfo.InvariantCulture)] += e.Placed;
                break;
            case EventKinds.Instance:
                ObserveInstance(e);
                break;
            case EventKinds.Throttle:
                _throttles[e.Bucket ?? "?"] = _throttles.GetValueOrDefault(e.Bucket ?? "?") + 1;
                // The RunTask bucket counts calls: the tasks a refused call asked for are in its own field.
                var refused = e.Bucket == RateLimits.BucketNames.RunTask ? e.Tasks : Math.Max(0, e.Requested - e.Granted);
                _throttledTasks[e.Bucket ?? "?"] = _throttledTasks.GetValueOrDefault(e.Bucket ?? "?") + refused;
                // Service launches held back by a Fargate bucket wait and are retried; RunTask's are refused for good.
                _runTaskRefused += e.Tasks;
                break;
            case EventKinds.ApiError:
                _apiErrors[$"{e.Api}/{e.Error}"] = _apiErrors.GetValueOrDefault($"{e.Api}/{e.Error}") + 1;
                if (e.Api == ApiErrors.RunTask)
                {
                    _runTaskRefused += e.Requested;
                }
                break;
            case EventKinds.Oom:
                _ooms++;
                _oomScopes[e.Scope ?? "?"] = _oomScopes.GetValueOrDefault(e.Scope ?? "?") + 1;
                break;
            case EventKinds.Service:
                ObserveService(e);
                break;
            case EventKinds.Job:
                _jobs.Observe(e);
                break;
        }
    }

    /// <summary>
    /// Tracks which service tasks sit on DRAINING hosts; a service event while any of the service's tasks does
    /// counts towards that service's minimum healthy percentage during drains.
    /// </summary>
    private void TrackTaskHost(SimEvent e, string taskKey)
    {
        if (e.Service is null)
        {
            return;
        }
        var serviceKey = $"{e.Account}/{e.Cluster}/{e.Service}";
        if (_taskHosts.Remove(taskKey, out var was))
        {
            _hostServices[was.Host][was.Service]--;
        }
        if (e.State == TaskStates.Stopped || e.Instance is null)
        {
            return;
        }
        var hostKey = $"{e.Account}/{e.Cluster}/{e.Instance}";
        _taskHosts[taskKey] = (serviceKey, hostKey);
        if (!_hostServices.TryGetValue(hostKey, out var counts))
        {
            _hostServices[hostKey] = counts = new Dictionary<string, int>(StringComparer.Ordinal);
        }
        counts[serviceKey] = counts.GetValueOrDefault(serviceKey) + 1;
    }

    private void ObserveService(SimEvent e)
    {
        if (e.Desired <= 0)
        {
            return;
        }
        var serviceKey = $"{e.Account}/{e.Cluster}/{e.Service}";
        var draining = _drainingHosts.Any(h => _hostServices.TryGetValue(h, out var c) && c.GetValueOrDefault(serviceKey) > 0);
        if (!draining)
        {
            return;
        }
        var percent = Math.Round(e.Healthy * 100.0 / e.Desired, 1);
        _minHealthyDuringDrains[serviceKey] = Math.Min(percent, _minHealthyDuringDrains.GetValueOrDefault(serviceKey, double.MaxValue));
    }

    private void ObserveTask(SimEvent e)
    {
        var id = $"{e.Account}/{e.Cluster}/{e.Task}";
        TrackTaskHost(e, id);
        TrackReservation(e, id);
        TrackFargate(e, id);
        switch (e.State)
        {
            case TaskStates.Provisioning when !_created.ContainsKey(id):
                _created[id] = e.TimeMs;
                _launched++;
                break;
            case TaskStates.Running when e.Health == TaskHealth.Healthy && _healthy.Add(id):
                _healthyCount++;
                _lastHealthyMs = Math.Max(_lastHealthyMs, e.TimeMs);
                if (_running.Add(id))
                {
                    ObserveFirstRunning(id, e);
                }
                break;
            case TaskStates.Running when _running.Add(id):
                ObserveFirstRunning(id, e);
                break;
            case TaskStates.Stopped:
                // Terminal: the task is never seen again.
                _created.Remove(id);
                _running.Remove(id);
                _healthy.Remove(id);
                var reason = e.Reason ?? "unknown";
                if (reason.StartsWith(StopReasons.Unplaceable, StringComparison.Ordinal))
                {
                    _unplaceable++;
                    reason = StopReasons.Unplaceable;
                }
                _stopped[reason] = _stopped.GetValueOrDefault(reason) + 1;
                break;
        }
    }

    private void ObserveFirstRunning(string id, SimEvent e)
    {
        _ranCount++;
        _timeToRunning.Add(e.TimeMs - _created.GetValueOrDefault(id, e.TimeMs));
        if (_firstRunningMs < 0)
        {
            _firstRunningMs = e.TimeMs;
        }
        _lastRunningMs = e.TimeMs;
    }

    private void ObserveInstance(SimEvent e)
    {
        var id = $"{e.Account}/{e.Cluster}/{e.Instance}";
        switch (e.State)
        {
            case InstanceStates.Launching:
                _instances[id] = (e.TimeMs, e.InstanceType ?? "", long.MaxValue, CapacityName(e));
                if (_fleet.Find(e.InstanceType) is { } type)
                {
                    _registeredCpu += type.CpuUnits;
                    _registeredMemory += type.MemoryMiB;
                }
                _instancesLaunched[e.InstanceType ?? "?"] = _instancesLaunched.GetValueOrDefault(e.InstanceType ?? "?") + 1;
                break;
            case InstanceStates.Draining when e.Reason is not null:
                _replacements[e.Reason] = _replacements.GetValueOrDefault(e.Reason) + 1;
                _drainingHosts.Add(id);
                break;
            case InstanceStates.Terminated:
                _drainingHosts.Remove(id);
                if (_instances.TryGetValue(id, out var i) && i.EndMs == long.MaxValue)
                {
                    _instances[id] = i with { EndMs = e.TimeMs };
                    if (_fleet.Find(i.Type) is { } ended)
                    {
                        _registeredCpu -= ended.CpuUnits;
                        _registeredMemory -= ended.MemoryMiB;
                    }
                }
                break;
        }
    }

    /// <summary>Advances the time integrals of reserved and registered resources to <paramref name="nowMs"/>.</summary>
    private void Integrate(long nowMs)
    {
        if (nowMs <= _integratedAtMs)
        {
            return;
        }
        var dt = nowMs - _integratedAtMs;
        _reservedCpuMs += (double)_reservedCpu * dt;
        _reservedMemoryMs += (double)_reservedMemory * dt;
        _registeredCpuMs += (double)_registeredCpu * dt;
        _registeredMemoryMs += (double)_registeredMemory * dt;
        _integratedAtMs = nowMs;
    }

    private string CapacityName(SimEvent e) =>
        _fleet.TypeOf(e.Account, e.Cluster, e.CapacityProvider) is { } type ? RunFleet.Name(type) : e.CapacityProvider ?? "?";

    /// <summary>Fargate bills a task's size from the start of its image pull (it leaves PROVISIONING) until it stops.</summary>
    private void TrackFargate(SimEvent e, string id)
    {
        if (e.State == TaskStates.Stopped)
        {
            if (_fargateBilled.Remove(id, out var billed))
            {
                AddFargate(billed, e.TimeMs);
            }
            return;
        }
        if (e.State == TaskStates.Provisioning || _fargateBilled.ContainsKey(id) || !_needs.TryGetValue(id, out var need))
        {
            return;
        }
        var type = _fleet.TypeOf(e.Account, e.Cluster, e.CapacityProvider);
        if (type is CapacityType.Fargate or CapacityType.FargateSpot)
        {
            _fargateBilled[id] = (e.TimeMs, need.Cpu / 1024.0, need.Memory / 1024.0, type == CapacityType.FargateSpot);
        }
    }

    private void AddFargate((long SinceMs, double Vcpu, double Gb, bool Spot) billed, long endMs)
    {
        var ms = Math.Max(0, endMs - billed.SinceMs);
        if (billed.Spot)
        {
            _spotVcpuMs += billed.Vcpu * ms;
            _spotGbMs += billed.Gb * ms;
        }
        else
        {
            _fargateVcpuMs += billed.Vcpu * ms;
            _fargateGbMs += billed.Gb * ms;
        }
    }

    /// <summary>A task reserves on its instance from its first event there until it stops (Fargate tasks have no instance).</summary>
    private void TrackReservation(SimEvent e, string id)
    {
        if (e.State == TaskStates.Provisioning && (e.Cpu > 0 || e.MemoryMiB > 0))
        {
            _needs[id] = (e.Cpu, e.MemoryMiB);
        }
        if (e.State == TaskStates.Stopped)
        {
            _needs.Remove(id);
            if (_onInstance.Remove(id, out var held))
            {
                _reservedCpu -= held.Cpu;
                _reservedMemory -= held.Memory;
            }
            return;
        }
        if (e.Instance is not null && !_onInstance.ContainsKey(id) && _needs.TryGetValue(id, out var need))
        {
            _onInstance[id] = need;
            _reservedCpu += need.Cpu;
            _reservedMemory += need.Memory;
        }
    }

    public RunSummary Build(string scenario, long seed, long simulatedMs, double wallSeconds, long ticks)
    {
        Integrate(simulatedMs);
        var hours = 0.0;
        var maxAgeMs = 0L;
        var costs = new SortedDictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var (launched, type, end, capacity) in _instances.Values)
        {
            var lived = Math.Min(end, simulatedMs) - launched;
            maxAgeMs = Math.Max(maxAgeMs, lived);
            var h = lived / 3_600_000.0;
            hours += h;
            costs[capacity] = costs.GetValueOrDefault(capacity) + (_fleet.Find(type)?.HourlyPrice ?? 0m) * (decimal)h;
        }
        foreach (var billed in _fargateBilled.Values)
        {
            // Still running at the end: billed up to it.
            AddFargate(billed, simulatedMs);
        }
        _fargateBilled.Clear();
        var (vcpuMs, gbMs, spotVcpuMs, spotGbMs) = (_fargateVcpuMs, _fargateGbMs, _spotVcpuMs, _spotGbMs);
        const double msPerHour = 3_600_000.0;
        if (vcpuMs > 0)
        {
            costs[RunFleet.Name(CapacityType.Fargate)] = (decimal)(vcpuMs / msPerHour) * _pricing.VcpuHour + (decimal)(gbMs / msPerHour) * _pricing.GbHour;
        }
        if (spotVcpuMs > 0)
        {
            costs[RunFleet.Name(CapacityType.FargateSpot)] = (decimal)(spotVcpuMs / msPerHour) * _pricing.SpotVcpuHour + (decimal)(spotGbMs / msPerHour) * _pricing.SpotGbHour;
        }
        var cost = costs.Values.Sum();
        foreach (var key in costs.Keys.ToList())
        {
            costs[key] = Math.Round(costs[key], 2);
        }
        var sorted = _timeToRunning.Order().ToArray();
        var span = (_lastRunningMs - _firstRunningMs) / 1000.0;
        return new RunSummary
        {
            Scenario = scenario,
            Seed = seed,
            TasksLaunched = _launched,
            TasksStoppedByReason = _stopped,
            Unplaceable = _unplaceable,
            TimeToRunning = new Percentiles(Percentile(sorted, 0.50), Percentile(sorted, 0.90), Percentile(sorted, 0.99), sorted.Length == 0 ? 0 : sorted[^1] / 1000.0),
            PlacementsByPhase = _phases,
            InstancesLaunched = _instancesLaunched,
            ReplacementsByReason = _replacements,
            MaxInstanceAgeDays = Math.Round(maxAgeMs / 86_400_000.0, 3),
            MinHealthyPercentDuringDrains = _minHealthyDuringDrains,
            OomKills = _ooms,
            OomKillsByScope = _oomScopes,
            Throttles = _throttles,
            ThrottledTasks = _throttledTasks,
            ApiErrors = _apiErrors,
            InstanceHours = Math.Round(hours, 3),
            Cost = Math.Round(cost, 2),
            CostByCapacityType = costs,
            FargateVcpuHours = Math.Round((vcpuMs + spotVcpuMs) / msPerHour, 3),
            FargateGbHours = Math.Round((gbMs + spotGbMs) / msPerHour, 3),
            RunTaskTasksRefused = _runTaskRefused,
            ReservedUtilisation = new Utilisation(
                _registeredCpuMs > 0 ? Math.Round(100 * _reservedCpuMs / _registeredCpuMs, 1) : 0,
                _registeredMemoryMs > 0 ? Math.Round(100 * _reservedMemoryMs / _registeredMemoryMs, 1) : 0),
            LaunchRate = span > 0 ? Math.Round(_ranCount / span, 3) : _ranCount,
            TasksHealthy = _healthyCount,
            LastHealthyAt = _lastHealthyMs / 1000.0,
            JobsByState = _jobs.ByState(),
            JobQueueWait = _jobs.QueueWait(),
            JobQueueWaitByQueue = _jobs.QueueWaitByQueue(),
            JobDrain = _jobs.Drain(),
            SimulatedSeconds = simulatedMs / 1000.0,
            WallSeconds = Math.Round(wallSeconds, 3),
            Ticks = ticks,
            Events = _events,
            EventsPerWallSecond = wallSeconds > 0 ? Math.Round(_events / wallSeconds) : 0,
            PlacementConflicts = _placement.Conflicts,
            PlacementRetries = _placement.Retries,
            ConflictFraction = _placement.ConflictFraction,
            PlacedByShard = _placement.PlacedByShard,
            ZoneSkew = _placement.ZoneSkew(),
        };
    }

    /// <summary>Nearest-rank percentile of simulated milliseconds, in seconds.</summary>
    public static double Percentile(long[] sortedMs, double p)
    {
        if (sortedMs.Length == 0)
        {
            return 0;
        }
        var rank = (int)Math.Ceiling(p * sortedMs.Length);
        return sortedMs[Math.Clamp(rank - 1, 0, sortedMs.Length - 1)] / 1000.0;
    }
}
