namespace Scheduler.Core.Engine;

/// <summary>What a service knows of one of its tasks.</summary>
public sealed class ServiceTask
{
    public string State { get; set; } = TaskStates.Provisioning;
    public string Health { get; set; } = TaskHealth.Unknown;
    public string? Zone { get; set; }
    public string? Instance { get; set; }
    /// <summary>The service asked for this task to stop (scale-in); it no longer counts towards desired.</summary>
    public bool Stopping { get; set; }
    /// <summary>Picked by rebalancing to move to another zone: replaced first, then stopped.</summary>
    public bool Replace { get; set; }
    /// <summary>The service deployment that started this task (<see cref="ServiceModel.Deployment"/>); older ones are replaced by a rolling update.</summary>
    public int Deployment { get; set; } = 1;
    /// <summary>Whether its task definition revision has a health check; null = the service's current one.</summary>
    public bool? HealthCheck { get; set; }
    /// <summary>Task scale-in protection until this time (simulated ms); 0 = not protected, <see cref="long.MaxValue"/> = until removed.</summary>
    public long ProtectedUntilMs { get; set; }

    public bool IsProtected(long nowMs) => ProtectedUntilMs > nowMs;
}

/// <summary>What one reconciliation decided: tasks to create and tasks to stop; <paramref name="Backlog"/> tasks
/// are still short of desired because the launch allowance (deployment rate, launch buckets) ran out.
/// <see cref="WakeAtMs"/> is when the service must look again although nothing else happens (a task's scale-in protection runs out).</summary>
public sealed record ServiceDecision(IReadOnlyList<string> Start, IReadOnlyList<ServiceTaskRef> Stop, int Backlog = 0, long WakeAtMs = long.MaxValue);

public sealed record ServiceTaskRef(string TaskId, string? Instance, string? Zone, string Reason = StopReasons.ScalingIn);

/// <summary>
/// The pure model behind a service grain: desired count against the tasks it owns. Reconciliation is
/// a function of this state only (the order of task updates within a tick does not matter).
/// </summary>
public sealed class ServiceModel
{
    public required string Name { get; set; }
    /// <summary>The task definition ("family:revision") of the primary deployment: every task the service starts uses it.</summary>
    public required string TaskDefinition { get; set; }
    /// <summary>The primary deployment's number: 1 at creation, one more for each new revision or forced new deployment.</summary>
    public int Deployment { get; set; } = 1;
    /// <summary>Every task the service starts is protected from scale-in (the service's <c>protectedFromScaleIn</c>).</summary>
    public bool ProtectNewTasks { get; set; }
    public int DesiredCount { get; set; }
    /// <summary>Tasks without a health check count as healthy once RUNNING (as ECS deployments treat them).</summary>
    public bool HasHealthCheck { get; set; }
    public int MinimumHealthyPercent { get; set; } = 100;
    public int MaximumPercent { get; set; } = 200;
    public long NextTaskNumber { get; set; } = 1;
    public SortedDictionary<string, ServiceTask> Tasks { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The last (desired, running, healthy) reported in a service event, so that only changes are logged.</summary>
    public int[] LastReported { get; set; } = [-1, -1, -1];
    public string? LastReportedDeployment { get; set; }

    /// <summary>Hosts that are DRAINING now: their tasks are replaced elsewhere, start before stop.</summary>
    public SortedSet<string> DrainingInstances { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The cluster's zones that are up, in the cluster's order; rebalancing evens the service across them.</summary>
    public List<string> AvailableZones { get; set; } = [];
    public bool Rebalancing { get; set; } = true;
    /// <summary>Sum of squared zone counts when the last rebalancing move began; a move that does not lower it stops rebalancing until the fleet changes.</summary>
    public long RebalanceMoveScore { get; set; } = long.MaxValue;
    public bool RebalanceStuck { get; set; }

    /// <summary>
    /// Its rebalancing waits for the fleet to change: stuck, or a move in flight whose score the next move must beat.
    /// A fleet update resets both; for a service not watching, an update about hosts none of its tasks is on changes nothing.
    /// </summary>
    public bool WatchesFleet => Rebalancing && (RebalanceStuck || RebalanceMoveScore != long.MaxValue);

    // ---- task monitoring (see Runtime.ServiceStability)
    /// <summary>The service throttle: failures in a row of tasks that did not become stable.</summary>
    public Runtime.ServiceBackoff Backoff { get; set; } = Runtime.ServiceBackoff.None;
    /// <summary>The last throttle delay reported in a service event.</summary>
    public long ReportedBackoffMs { get; set; }
    /// <summary>The current deployment's circuit breaker (disabled unless the service enables it).</summary>
    public Runtime.DeploymentCircuitBreaker Breaker { get; set; } = new() { Deployment = "" };

    public int Running
    {
        get
        {
            var n = 0;
            foreach (var t in Tasks.Values)
            {
                if (t.State == TaskStates.Running)
                {
                    n++;
                }
            }
            return n;
        }
    }

    public int Healthy
    {
        get
        {
            var n = 0;
            foreach (var t in Tasks.Values)
            {
                if (IsHealthy(t))
                {
                    n++;
                }
            }
            return n;
        }
    }

    public bool IsHealthy(ServiceTask t) =>
        t.State == TaskStates.Running && (t.Health == TaskHealth.Healthy || (!(t.HealthCheck ?? HasHealthCheck) && t.Health == TaskHealth.Unknown));

    /// <summary>A task to be replaced: on a draining host, picked by rebalancing, or started by an earlier deployment.</summary>
    public bool IsOld(ServiceTask t) => t.Replace || t.Deployment != Deployment || (t.Instance is { } i && DrainingInstances.Count > 0 && DrainingInstances.Contains(i));

    /// <summary>The id of the primary deployment, as service events carry it: the task definition and the deployment number.</summary>
    public string DeploymentId => $"{TaskDefinition}#{Deployment}";

    /// <summary>Tasks still running an earlier deployment (a rolling update in progress), not yet asked to stop.</summary>
    public int Outdated => Tasks.Values.Count(t => !t.Stopping && t.Deployment != Deployment);

    /// <summary>
    /// UpdateService: a new task definition revision, or <paramref name="force"/> (forceNewDeployment),
    /// starts a new deployment; the tasks of earlier ones are then replaced, start before stop, within
    /// minimumHealthyPercent and maximumPercent. The same revision without force changes nothing. Returns whether a
    /// deployment began.
    /// </summary>
    public bool Deploy(string? taskDefinition, bool force, bool? hasHealthCheck = null)
    {
        var changed = taskDefinition is not null && taskDefinition != TaskDefinition;
        if (!changed && !force)
        {
            return false;
        }
        if (taskDefinition is not null)
        {
            TaskDefinition = taskDefinition;
        }
        if (hasHealthCheck is { } h)
        {
            HasHealthCheck = h;
        }
        Deployment++;
        // A rebalancing move in flight is dropped: the deployment replaces every task anyway.
        foreach (var t in Tasks.Values)
        {
            t.Replace = false;
        }
        RebalanceStuck = false;
        RebalanceMoveScore = long.MaxValue;
        return true;
    }

    /// <summary>
    /// UpdateTaskProtection: protects (or unprotects) the given tasks, or all current ones, from scale-in until
    /// <paramref name="untilMs"/>. Returns how many tasks it changed.
    /// </summary>
    public int Protect(IReadOnlyList<string>? taskIds, bool enabled, long untilMs)
    {
        var n = 0;
        foreach (var (id, t) in Tasks)
        {
            if (t.Stopping || (taskIds is not null && !taskIds.Contains(id)))
            {
                continue;
            }
            t.ProtectedUntilMs = enabled ? untilMs : 0;
            n++;
        }
        return n;
    }

    /// <summary>The next time a task's scale-in protection runs out (the service must look again then), or never.</summary>
    public long NextProtectionExpiryMs(long nowMs) =>
        Tasks.Values.Where(t => !t.Stopping && t.ProtectedUntilMs > nowMs && t.ProtectedUntilMs != long.MaxValue)
            .Select(t => t.ProtectedUntilMs).DefaultIfEmpty(long.MaxValue).Min();

    /// <summary>Hosts where a live task of this service is protected from scale-in (consolidation leaves them alone).</summary>
    public IReadOnlyList<string> ProtectedInstances(long nowMs) =>
        Tasks.Values.Where(t => !t.Stopping && t.IsProtected(nowMs) && t.Instance is not null)
            .Select(t => t.Instance!).Distinct().Order(StringComparer.Ordinal).ToList();

    public void Apply(TaskUpdate update)
    {
        if (!Tasks.TryGetValue(update.TaskId, out var t))
        {
            return;
        }
        if (update.State == TaskStates.Stopped)
        {
            Tasks.Remove(update.TaskId);
            return;
        }
        t.State = update.State;
        t.Health = update.Health;
        t.Zone = update.Zone;
        t.Instance = update.Instance;
    }

    /// <summary>A task the service started could not be placed at all; forget it (it never ran).</summary>
    public void Forget(string taskId) => Tasks.Remove(taskId);

    /// <summary>The cluster's view changed (hosts draining, zones failed or back): rebalancing may look again.</summary>
    public void UpdateFleet(IEnumerable<string> drainingInstances, IEnumerable<string> availableZones, bool rebalancing)
    {
        DrainingInstances = new SortedSet<string>(drainingInstances, StringComparer.Ordinal);
        AvailableZones = availableZones.ToList();
        Rebalancing = rebalancing;
        RebalanceStuck = false;
        RebalanceMoveScore = long.MaxValue;
    }

    /// <summary>
    /// Compares desired with the tasks that count towards it:
    /// <list type="number">
    /// <item>scale-in: fresh tasks above desired stop, those not yet running first, then one at a time from the zone holding most;</item>
    /// <item>shortfall and replacements: fresh tasks (not on draining hosts) are topped up to desired, the total kept within maximumPercent;</item>
    /// <item>start before stop: a task on a draining host stops only when a replacement is RUNNING and HEALTHY, and never
    /// takes the healthy count below minimumHealthyPercent of desired. Only when maximumPercent leaves no room for any
    /// replacement does an old task stop first (still within minimumHealthyPercent), as ECS does;</item>
    /// <item>continual rebalancing: a settled service whose zone counts differ by more than one moves one task, start before stop.</item>
    /// </list>
    /// Tasks of an earlier deployment (a rolling update) are replaced like tasks on a draining host. A task under
    /// scale-in protection at <paramref name="nowMs"/> is never stopped by the service (scale-in, rolling update or
    /// drain): it stays until the protection is removed or runs out, and its host waits for it up to the hard limit.
    /// </summary>
    public ServiceDecision Reconcile(int maxStarts = int.MaxValue, long nowMs = 0)
    {
        // Live tasks in id order, split into old (to be replaced) and fresh; one pass, no sorting.
        var old = new List<KeyValuePair<string, ServiceTask>>();
        var fresh = new List<KeyValuePair<string, ServiceTask>>(Tasks.Count);
        foreach (var kv in Tasks)
        {
            if (kv.Value.Stopping || kv.Value.State is TaskStates.Deactivating or TaskStates.Stopping or TaskStates.Deprovisioning)
            {
                continue;
            }
            (IsOld(kv.Value) ? old : fresh).Add(kv);
        }
        var desired = DesiredCount;
        var maxTotal = Math.Max(desired, MaximumPercent * desired / 100);
        var minHealthy = (MinimumHealthyPercent * desired + 99) / 100;
        var start = new List<string>();
        var stop = new List<ServiceTaskRef>();

        // 1. Scale-in, one victim at a time so the zones stay even.
        var excess = fresh.Count - desired;
        if (excess > 0)
        {
            var zoneCounts = fresh.GroupBy(kv => kv.Value.Zone ?? "").ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            for (var i = 0; i < excess; i++)
            {
                var candidates = fresh.Where(kv => !kv.Value.IsProtected(nowMs)).ToList();
                if (candidates.Count == 0)
                {
                    // The rest are protected from scale-in: the service stays above desired until that ends.
                    break;
                }
                var victim = candidates
                    .OrderBy(kv => kv.Value.State == TaskStates.Running ? 1 : 0)
                    .ThenByDescending(kv => zoneCounts[kv.Value.Zone ?? ""])
                    .ThenByDescending(kv => kv.Key, StringComparer.Ordinal)
                    .First();
                fresh.Remove(victim);
                zoneCounts[victim.Value.Zone ?? ""]--;
                victim.Value.Stopping = true;
                stop.Add(new ServiceTaskRef(victim.Key, victim.Value.Instance, victim.Value.Zone, StopReasons.ScalingIn));
            }
        }

        // 2. Shortfall and replacements within maximumPercent.
        var liveCount = fresh.Count + old.Count;
        var room = Math.Max(0, maxTotal - liveCount);
        var wanted = Math.Max(Math.Max(0, desired - liveCount), Math.Min(Math.Max(0, desired - fresh.Count), room));
        // Launched in batches within the allowance (deployment rate, launch buckets: workflow cycles); the rest waits.
        var create = Math.Min(wanted, Math.Max(0, maxStarts));
        for (var i = 0; i < create; i++)
        {
            start.Add(NewTask());
        }

        // 3. Start before stop for tasks on draining hosts (and rebalancing moves).
        if (old.Count > 0)
        {
            var freshHealthy = CountHealthy(fresh);
            var healthyBudget = freshHealthy + CountHealthy(old) - minHealthy;
            var replaced = Math.Min(old.Count, freshHealthy + old.Count - desired);
            var blocked = wanted == 0 && room == 0 && fresh.Count < desired;
            var allowance = blocked ? old.Count : replaced;
            var stopped = 0;
            foreach (var (id, t) in StopOrder(old))
            {
                if (stopped >= allowance)
                {
                    break;
                }
                if (t.IsProtected(nowMs))
                {
                    continue;
                }
                if (IsHealthy(t))
                {
                    if (healthyBudget <= 0)
                    {
                        continue;
                    }
                    healthyBudget--;
                }
                stopped++;
                t.Stopping = true;
                stop.Add(new ServiceTaskRef(id, t.Instance, t.Zone, StopReasonOf(t)));
            }
        }
        else if (Rebalancing && maxStarts > 0 && start.Count == 0 && stop.Count == 0 && fresh.Count == desired && maxTotal > desired
                 && AvailableZones.Count > 1 && CountHealthy(fresh) == fresh.Count)
        {
            Rebalance(fresh, start);
        }
        var wake = AnyProtection() ? NextProtectionExpiryMs(nowMs) : long.MaxValue;
        return new ServiceDecision(start, stop, wanted - create, wake);
    }

    /// <summary>Whether any task has (or had) scale-in protection set.</summary>
    public bool AnyProtection()
    {
        foreach (var t in Tasks.Values)
        {
            if (t.ProtectedUntilMs != 0)
            {
                return true;
            }
        }
        return false;
    }

    private int CountHealthy(List<KeyValuePair<string, ServiceTask>> tasks)
    {
        var n = 0;
        foreach (var kv in tasks)
        {
            if (IsHealthy(kv.Value))
            {
                n++;
            }
        }
        return n;
    }

    /// <summary>
    /// Old tasks in the order they are stopped: not yet running, then running but not healthy, then healthy; by id
    /// within each (the list is in id order, so three passes keep it).
    /// </summary>
    private IEnumerable<KeyValuePair<string, ServiceTask>> StopOrder(List<KeyValuePair<string, ServiceTask>> old)
    {
        for (var rank = 0; rank < 3; rank++)
        {
            foreach (var kv in old)
            {
                var r = IsHealthy(kv.Value) ? 2 : kv.Value.State == TaskStates.Running ? 1 : 0;
                if (r == rank)
                {
                    yield return kv;
                }
            }
        }
    }

    /// <summary>Why an old task stops: its host drains, rebalancing moves it, or a newer deployment replaces it.</summary>
    private string StopReasonOf(ServiceTask t) =>
        t.Instance is { } i && DrainingInstances.Contains(i) ? StopReasons.InstanceDraining
        : t.Replace ? StopReasons.Rebalancing
        : StopReasons.Deployment;

    /// <summary>
    /// What the cluster is told after a reconciliation, in one pass over the tasks: the running and healthy counts, whether
    /// any task has (or had) scale-in protection (<see cref="AnyProtection"/>), and <see cref="DoomedZoneCounts"/>.
    /// </summary>
    public (int Running, int Healthy, bool AnyProtection, SortedDictionary<string, int>? Doomed) Census()
    {
        int running = 0, healthy = 0;
        var anyProtection = false;
        SortedDictionary<string, int>? doomed = null;
        foreach (var t in Tasks.Values)
        {
            if (t.State == TaskStates.Running)
            {
                running++;
                if (IsHealthy(t))
                {
                    healthy++;
                }
            }
            anyProtection |= t.ProtectedUntilMs != 0;
            if (t.Zone is { } zone && (t.Stopping || IsOld(t) || t.State is TaskStates.Deactivating or TaskStates.Stopping or TaskStates.Deprovisioning))
            {
                doomed ??= new SortedDictionary<string, int>(StringComparer.Ordinal);
                doomed[zone] = doomed.GetValueOrDefault(zone) + 1;
            }
        }
        return (running, healthy, anyProtection, doomed);
    }

    /// <summary>
    /// Per zone, the tasks on their way out: on a draining host, picked by rebalancing, of an earlier deployment, asked
    /// to stop, or stopping already; null when there are none. Placement counts them out of their zone, so that
    /// replacements land where the spread holds once they are gone (a doomed task does not count towards its zone).
    /// </summary>
    public SortedDictionary<string, int>? DoomedZoneCounts()
    {
        SortedDictionary<string, int>? counts = null;
        foreach (var t in Tasks.Values)
        {
            if (t.Zone is { } zone && (t.Stopping || IsOld(t) || t.State is TaskStates.Deactivating or TaskStates.Stopping or TaskStates.Deprovisioning))
            {
                counts ??= new SortedDictionary<string, int>(StringComparer.Ordinal);
                counts[zone] = counts.GetValueOrDefault(zone) + 1;
            }
        }
        return counts;
    }

    /// <summary>Zone counts of settled tasks over the zones that are up, in zone order.</summary>
    public int[] ZoneCounts(IEnumerable<ServiceTask> tasks)
    {
        var counts = new int[AvailableZones.Count];
        foreach (var t in tasks)
        {
            var z = t.Zone is null ? -1 : AvailableZones.IndexOf(t.Zone);
            if (z >= 0)
            {
                counts[z]++;
            }
        }
        return counts;
    }

    private void Rebalance(List<KeyValuePair<string, ServiceTask>> fresh, List<string> start)
    {
        if (RebalanceStuck)
        {
            return;
        }
        var counts = ZoneCounts(fresh.Select(kv => kv.Value));
        if (counts.Max() - counts.Min() <= 1)
        {
            RebalanceMoveScore = long.MaxValue;
            return;
        }
        var score = counts.Sum(c => (long)c * c);
        if (score >= RebalanceMoveScore)
        {
            // The last move did not even things out (placement put the replacement in a crowded zone): stop
            // rather than churn, until the fleet changes.
            RebalanceStuck = true;
            return;
        }
        RebalanceMoveScore = score;
        var crowded = AvailableZones[Array.IndexOf(counts, counts.Max())];
        var victim = fresh.Where(kv => kv.Value.Zone == crowded).OrderByDescending(kv => kv.Key, StringComparer.Ordinal).First();
        victim.Value.Replace = true;
        start.Add(NewTask());
    }

    private string NewTask()
    {
        var id = $"{Name}-{NextTaskNumber++:D5}";
        Tasks[id] = new ServiceTask
        {
            Deployment = Deployment, HealthCheck = HasHealthCheck, ProtectedUntilMs = ProtectNewTasks ? long.MaxValue : 0,
        };
        return id;
    }

    /// <summary>The counts for a service event, or null when they have not changed since the last one.</summary>
    public (int Desired, int Running, int Healthy)? TakeChangedCounts() => TakeChangedCounts(Running, Healthy);

    /// <summary><see cref="TakeChangedCounts()"/> with the running and healthy counts already taken (<see cref="Census"/>).</summary>
    public (int Desired, int Running, int Healthy)? TakeChangedCounts(int running, int healthy)
    {
        int[] now = [DesiredCount, running, healthy];
        if (now.AsSpan().SequenceEqual(LastReported) && LastReportedDeployment == DeploymentId)
        {
            return null;
        }
        LastReported = now;
        LastReportedDeployment = DeploymentId;
        return (now[0], now[1], now[2]);
    }
}
