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
}

/// <summary>What one reconciliation decided: tasks to create and tasks to stop; <paramref name="Backlog"/> tasks
/// are still short of desired because the launch allowance (deployment rate, launch buckets) ran out.</summary>
public sealed record ServiceDecision(IReadOnlyList<string> Start, IReadOnlyList<ServiceTaskRef> Stop, int Backlog = 0);

public sealed record ServiceTaskRef(string TaskId, string? Instance, string? Zone);

/// <summary>
/// The pure model behind a service grain: desired count against the tasks it owns. Reconciliation is
/// a function of this state only (the order of task updates within a tick does not matter).
/// </summary>
public sealed class ServiceModel
{
    public required string Name { get; set; }
    public required string TaskDefinition { get; set; }
    public int DesiredCount { get; set; }
    /// <summary>Tasks without a health check count as healthy once RUNNING (as ECS deployments treat them).</summary>
    public bool HasHealthCheck { get; set; }
    public long NextTaskNumber { get; set; } = 1;
    public SortedDictionary<string, ServiceTask> Tasks { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The last (desired, running, healthy) reported in a service event, so that only changes are logged.</summary>
    public int[] LastReported { get; set; } = [-1, -1, -1];

    public int Running => Tasks.Values.Count(t => t.State == TaskStates.Running);

    public int Healthy => Tasks.Values.Count(IsHealthy);

    private bool IsHealthy(ServiceTask t) =>
        t.State == TaskStates.Running && (t.Health == TaskHealth.Healthy || (!HasHealthCheck && t.Health == TaskHealth.Unknown));

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

    /// <summary>
    /// Compares desired with the tasks that count towards it. A shortfall creates new task ids; an excess
    /// stops tasks, those not yet running first, then from the zone holding most, newest first.
    /// </summary>
    public ServiceDecision Reconcile(int maxStarts = int.MaxValue)
    {
        var counted = Tasks.Where(kv => !kv.Value.Stopping && kv.Value.State is not (TaskStates.Deactivating or TaskStates.Stopping or TaskStates.Deprovisioning))
            .ToList();
        var start = new List<string>();
        var stop = new List<ServiceTaskRef>();
        // A shortfall is launched in batches within the allowance (workflow cycles); the rest waits.
        var shortfall = Math.Max(0, DesiredCount - counted.Count);
        for (var i = 0; i < Math.Min(shortfall, Math.Max(0, maxStarts)); i++)
        {
            var id = $"{Name}-{NextTaskNumber++:D5}";
            Tasks[id] = new ServiceTask();
            start.Add(id);
        }
        var excess = counted.Count - DesiredCount;
        if (excess > 0)
        {
            var zoneCounts = counted.GroupBy(kv => kv.Value.Zone ?? "").ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var victims = counted
                .OrderBy(kv => kv.Value.State == TaskStates.Running ? 1 : 0)
                .ThenByDescending(kv => zoneCounts[kv.Value.Zone ?? ""])
                .ThenByDescending(kv => kv.Key, StringComparer.Ordinal)
                .Take(excess);
            foreach (var (id, t) in victims)
            {
                t.Stopping = true;
                stop.Add(new ServiceTaskRef(id, t.Instance, t.Zone));
            }
        }
        return new ServiceDecision(start, stop, shortfall - start.Count);
    }

    /// <summary>The counts for a service event, or null when they have not changed since the last one.</summary>
    public (int Desired, int Running, int Healthy)? TakeChangedCounts()
    {
        int[] now = [DesiredCount, Running, Healthy];
        if (now.AsSpan().SequenceEqual(LastReported))
        {
            return null;
        }
        LastReported = now;
        return (now[0], now[1], now[2]);
    }
}
