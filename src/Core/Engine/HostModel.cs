using Scheduler.Core.Catalog;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Placement;
using Scheduler.Core.Runtime;

namespace Scheduler.Core.Engine;

/// <summary>One task as its host holds it.</summary>
public sealed class HostedTask
{
    public required TaskLaunch Launch { get; set; }
    public string State { get; set; } = TaskStates.Provisioning;
    public string Health { get; set; } = TaskHealth.Unknown;
    /// <summary>When the next lifecycle step is due; <see cref="long.MaxValue"/> when none is.</summary>
    public long NextAtMs { get; set; } = long.MaxValue;
    public long HealthyAtMs { get; set; } = long.MaxValue;
    public long ExitAtMs { get; set; } = long.MaxValue;
    public string? StopReason { get; set; }
    /// <summary>When the task became RUNNING; <see cref="long.MaxValue"/> before.</summary>
    public long RunningSinceMs { get; set; } = long.MaxValue;
    public long CrashAtMs { get; set; } = long.MaxValue;
    public long UnhealthyAtMs { get; set; } = long.MaxValue;
    /// <summary>Non-essential containers that died (OOM-killed); the task runs on without them.</summary>
    public List<string>? DeadContainers { get; set; }
    /// <summary>Fargate Spot: when the task gets its interruption warning; <see cref="long.MaxValue"/> = never.</summary>
    public long InterruptAtMs { get; set; } = long.MaxValue;
}

/// <summary>
/// A container instance and the tasks on it: the pure model behind the instance grain. Every method
/// takes the simulated time; nothing reads a clock. A Fargate zone pool is a host with unlimited
/// resources and no instance id in its events.
/// </summary>
public sealed class HostModel
{
    public required string Id { get; set; }
    public required string Account { get; set; }
    public required string Cluster { get; set; }
    public required string Zone { get; set; }
    public required string CapacityProvider { get; set; }
    public required InstanceType Type { get; set; }
    public required string Ami { get; set; }
    public string Status { get; set; } = InstanceStates.Launching;
    public bool IsFargate { get; set; }
    public long LaunchedAtMs { get; set; }
    public long ActiveAtMs { get; set; }
    public Resources Reserved { get; set; }
    public SortedDictionary<string, HostedTask> Tasks { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Image name to the time it is (or will be) in the local cache.</summary>
    public SortedDictionary<string, long> ImageReadyAtMs { get; set; } = new(StringComparer.Ordinal);
    public long TerminatedAtMs { get; set; } = long.MaxValue;
    /// <summary>Task runtime parameters (memory sampling, OS/agent memory).</summary>
    public RuntimeSettings Runtime { get; set; } = RuntimeSettings.Default;
    /// <summary>The next memory sample: only while some usage model can cross a limit.</summary>
    public long NextMemoryCheckMs { get; set; } = long.MaxValue;

    // ---- lifecycle
    public HostLifecyclePolicy Lifecycle { get; set; } = HostLifecyclePolicy.None;
    /// <summary>The run's launch pipeline (scenario overrides): the stop path's delays that a deadline must leave room for.</summary>
    public LaunchPipeline Pipeline { get; set; } = LaunchPipeline.Default;
    /// <summary>Registered with the cluster (its launch finished); independent of DRAINING, so a host drained while launching still comes up.</summary>
    public bool IsRegistered { get; set; }
    /// <summary>Why the host drains (an instance event reason); null while it does not.</summary>
    public string? DrainReason { get; set; }
    public long DrainingSinceMs { get; set; } = long.MaxValue;
    /// <summary>Next look at the patch policy.</summary>
    public long PatchCheckMs { get; set; } = long.MaxValue;
    public long MaintenanceEventAtMs { get; set; } = long.MaxValue;
    public long SpotInterruptionAtMs { get; set; } = long.MaxValue;
    /// <summary>The host is gone at this time whatever still runs on it (hard limit, or two minutes after a Spot warning).</summary>
    public long DeadlineMs { get; set; } = long.MaxValue;
    public string DeadlineReason { get; set; } = DrainReasons.MaxLifetime;
    /// <summary>The remaining tasks were asked to stop ahead of <see cref="DeadlineMs"/>.</summary>
    public bool DeadlineStopStarted { get; set; }
    /// <summary>The patch policy wants an in-window replacement; the cluster grants it (bounded concurrency) by calling <see cref="BeginDrain"/>.</summary>
    public string? WantsDrain { get; set; }

    public Resources Registered => IsFargate
        ? new Resources(int.MaxValue / 2, long.MaxValue / 2, int.MaxValue / 2)
        : new Resources(Type.CpuUnits, Type.MemoryMiB, Type.Gpus);

    public Resources Free => Registered - Reserved;

    private string? EventInstance => IsFargate ? null : Id;

    /// <summary>A new host: LAUNCHING now, ACTIVE (registered) after the type's launch latency; or ACTIVE at once for a pre-registered one.</summary>
    public static HostModel Launch(string id, string account, string cluster, string zone, string capacityProvider,
        InstanceType type, string ami, long nowMs, bool preRegistered, List<SimEvent> events)
    {
        var host = new HostModel
        {
            Id = id, Account = account, Cluster = cluster, Zone = zone, CapacityProvider = capacityProvider,
            Type = type, Ami = ami, LaunchedAtMs = nowMs,
            ActiveAtMs = preRegistered ? nowMs : nowMs + (long)type.LaunchLatency.TotalMilliseconds,
        };
        events.Add(host.InstanceEvent(nowMs, InstanceStates.Launching, null));
        if (preRegistered)
        {
            host.Status = InstanceStates.Active;
            host.IsRegistered = true;
            events.Add(host.InstanceEvent(nowMs, InstanceStates.Active, null));
        }
        return host;
    }

    /// <summary>
    /// Fixes how this host ages: the patch cycle's first look, its hard limit, and its random maintenance event and Spot
    /// interruption. A Fargate pool only keeps the policy: its Spot tasks are interrupted one by one.
    /// </summary>
    public void StartLifecycle(HostLifecyclePolicy policy, LaunchPipeline? pipeline = null)
    {
        Lifecycle = policy;
        Pipeline = pipeline ?? LaunchPipeline.Default;
        if (IsFargate)
        {
            return;
        }
        DeadlineMs = policy.HardLimitMs(LaunchedAtMs);
        DeadlineReason = DrainReasons.MaxLifetime;
        PatchCheckMs = policy.Patch is null ? long.MaxValue : LaunchedAtMs;
        MaintenanceEventAtMs = policy.MaintenanceEventMs(Id, LaunchedAtMs);
        SpotInterruptionAtMs = policy.SpotInterruptionMs(Id, LaunchedAtMs);
    }

    public static HostModel FargatePool(string id, string account, string cluster, string zone, string capacityProvider)
    {
        return new HostModel
        {
            Id = id, Account = account, Cluster = cluster, Zone = zone, CapacityProvider = capacityProvider,
            Type = new InstanceType("fargate", "fargate", 0, 0, 0, null, false, 0m, TimeSpan.Zero),
            Ami = "fargate", Status = InstanceStates.Active, IsFargate = true, IsRegistered = true,
        };
    }

    /// <summary>The earliest time anything on this host is due, or <see cref="long.MaxValue"/>.</summary>
    public long NextDueMs
    {
        get
        {
            if (Status == InstanceStates.Terminated)
            {
                return long.MaxValue;
            }
            var next = IsRegistered ? long.MaxValue : ActiveAtMs;
            foreach (var t in Tasks.Values)
            {
                next = Math.Min(next, t.NextAtMs);
            }
            next = Math.Min(next, Math.Min(PatchCheckMs, Math.Min(MaintenanceEventAtMs, SpotInterruptionAtMs)));
            next = Math.Min(next, NextMemoryCheckMs);
            if (DeadlineMs != long.MaxValue)
            {
                next = Math.Min(next, DeadlineStopStarted ? DeadlineMs : DeadlineStopAtMs);
            }
            return next;
        }
    }

    /// <summary>
    /// When the remaining tasks get SIGTERM so that they are gone by the deadline: the slowest task's stop path
    /// (load-balancer deregistration if it has one, its stop grace period, network detach if awsvpc, with the run's
    /// pipeline), and a tick of slack per step (steps happen on ticks). A Spot warning leaves at most its two minutes.
    /// </summary>
    public long DeadlineStopAtMs
    {
        get
        {
            long stop = 0;
            foreach (var t in Tasks.Values)
            {
                stop = Math.Max(stop, StopPathMs(t.Launch, Pipeline));
            }
            var lead = stop + 4 * Lifecycle.TickMs;
            if (DeadlineReason == DrainReasons.SpotInterruption)
            {
                lead = Math.Min(lead, HostLifecyclePolicy.SpotWarningMs);
            }
            return DeadlineMs - lead;
        }
    }

    /// <summary>From SIGTERM's path starting to STOPPED: deregistration, the grace period, network detach.</summary>
    public static long StopPathMs(TaskLaunch launch, LaunchPipeline pipeline) =>
        (launch.LoadBalancer ? (long)pipeline.LoadBalancerDeregistration.TotalMilliseconds : 0)
        + launch.StopGraceMs(pipeline)
        + (launch.Awsvpc ? (long)pipeline.EniDetach.TotalMilliseconds : 0);

    /// <summary>Takes a batch of tasks placed here. Returns the ids it refused (not enough room or not accepting), which go back to pending.</summary>
    public List<string> Accept(long nowMs, IReadOnlyList<TaskLaunch> launches, LaunchPipeline pipeline)
    {
        var refused = new List<string>();
        foreach (var launch in launches)
        {
            // DRAINING hosts take no new tasks.
            var accepting = Status is InstanceStates.Active or InstanceStates.Launching;
            if (!accepting || !Free.Fits(launch.Need) || Tasks.ContainsKey(launch.TaskId))
            {
                refused.Add(launch.TaskId);
                continue;
            }
            Reserved += launch.Need;
            var task = new HostedTask { Launch = launch };
            Tasks[launch.TaskId] = task;
            if (IsRegistered)
            {
                Begin(task, nowMs, pipeline);
            }
        }
        return refused;
    }

    /// <summary>
    /// Starts the launch pipeline of a task whose host is ACTIVE. PROVISIONING lasts: the wait for capacity
    /// (Fargate Spot availability), capacity acquisition (a Fargate pool slot, or the EC2 agent taking the
    /// task), ENI attach (awsvpc) and public IP assignment (Fargate awsvpc with assignPublicIp).
    /// </summary>
    private void Begin(HostedTask task, long nowMs, LaunchPipeline pipeline)
    {
        task.NextAtMs = Math.Max(nowMs, task.Launch.CapacityReadyAtMs) + ProvisioningMs(task.Launch, IsFargate, pipeline);
    }

    /// <summary>The PROVISIONING stage of a task once its capacity is available (see <see cref="LaunchPipeline"/>).</summary>
    public static long ProvisioningMs(TaskLaunch launch, bool fargate, LaunchPipeline pipeline)
    {
        var acquire = fargate
            ? LaunchPipeline.Jittered(pipeline.FargateCapacityAcquisition, pipeline.FargateCapacityAcquisitionStddev, launch.LaunchJitter)
            : LaunchPipeline.Jittered(pipeline.Ec2TaskStart, pipeline.Ec2TaskStartStddev, launch.LaunchJitter);
        var eni = launch.Awsvpc ? (long)pipeline.EniAttach.TotalMilliseconds : 0;
        var publicIp = fargate && launch.Awsvpc && launch.PublicIp ? (long)pipeline.PublicIpAssignment.TotalMilliseconds : 0;
        return acquire + eni + publicIp;
    }

    /// <summary>Asks tasks to stop (SIGTERM path). Already stopping or stopped tasks are left alone.</summary>
    public void RequestStop(long nowMs, IEnumerable<string> taskIds, string reason)
    {
        foreach (var id in taskIds)
        {
            if (Tasks.TryGetValue(id, out var t) && t.StopReason is null && t.State != TaskStates.Stopped)
            {
                t.StopReason = reason;
                t.NextAtMs = nowMs;
            }
        }
    }

    /// <summary>Carries out every lifecycle step due at or before <paramref name="nowMs"/>, stamping events with <paramref name="nowMs"/>.</summary>
    public void Advance(long nowMs, LaunchPipeline pipeline, List<SimEvent> events, List<TaskUpdate> updates)
    {
        if (Status == InstanceStates.Terminated)
        {
            return;
        }
        if (!IsRegistered && ActiveAtMs <= nowMs)
        {
            // Registration completes even when the host was set DRAINING while it launched; it just stays DRAINING.
            IsRegistered = true;
            if (Status == InstanceStates.Launching)
            {
                Status = InstanceStates.Active;
                events.Add(InstanceEvent(nowMs, InstanceStates.Active, null));
            }
            foreach (var t in Tasks.Values)
            {
                // Only tasks still waiting for the host start; one already asked to stop goes on stopping.
                if (t.State == TaskStates.Provisioning && t.StopReason is null)
                {
                    Begin(t, nowMs, pipeline);
                }
            }
        }
        AdvanceLifecycle(nowMs, events, updates);
        if (NextMemoryCheckMs <= nowMs && Status != InstanceStates.Terminated)
        {
            CheckMemory(NextMemoryCheckMs, nowMs, events);
        }
        List<string>? removed = null;
        foreach (var t in Tasks.Values)
        {
            // A task may pass several steps in one tick when their delays are zero (e.g. a cached image).
            while (t.NextAtMs <= nowMs)
            {
                Step(t, nowMs, pipeline, events, updates);
            }
            if (t.State == TaskStates.Stopped)
            {
                (removed ??= []).Add(t.Launch.TaskId);
            }
        }
        if (removed is not null)
        {
            foreach (var id in removed)
            {
                Reserved -= Tasks[id].Launch.Need;
                Tasks.Remove(id);
            }
        }
        // A Spot host is reclaimed when its notice runs out, not before: the instance runs until EC2 takes it.
        if (Status == InstanceStates.Draining && Tasks.Count == 0 && !(DeadlineReason == DrainReasons.SpotInterruption && DeadlineMs > nowMs))
        {
            // Emptied by the deadline's forced stop (hard limit, Spot reclaim): that is why it goes, whatever began the drain.
            Terminate(nowMs, DeadlineStopStarted ? DeadlineReason : DrainReason, events);
        }
        NextMemoryCheckMs = Status == InstanceStates.Terminated ? long.MaxValue : ScheduleMemoryCheck(nowMs);
    }

    /// <summary>The host's own clock: deadline (hard limit, Spot reclaim), patch cycle, scheduled maintenance, Spot warning.</summary>
    private void AdvanceLifecycle(long nowMs, List<SimEvent> events, List<TaskUpdate> updates)
    {
        if (IsFargate)
        {
            return;
        }
        if (DeadlineMs <= nowMs)
        {
            // Whatever is still here dies with the host (SIGKILL).
            BeginDrain(nowMs, DeadlineReason, events);
            Kill(nowMs, StopReasons.InstanceTerminated(DeadlineReason), events, updates);
            Terminate(nowMs, DeadlineReason, events);
            return;
        }
        if (!DeadlineStopStarted && DeadlineMs != long.MaxValue && DeadlineStopAtMs <= nowMs)
        {
            // SIGTERM now so that every task's grace period ends before the deadline.
            DeadlineStopStarted = true;
            BeginDrain(nowMs, DeadlineReason, events);
            RequestStop(nowMs, Tasks.Keys.ToList(), StopReasons.InstanceTerminated(DeadlineReason));
        }
        if (SpotInterruptionAtMs <= nowMs)
        {
            SpotInterruptionAtMs = long.MaxValue;
            BeginDrain(nowMs, DrainReasons.SpotInterruption, events);
            if (nowMs + HostLifecyclePolicy.SpotWarningMs < DeadlineMs)
            {
                DeadlineMs = nowMs + HostLifecyclePolicy.SpotWarningMs;
                DeadlineReason = DrainReasons.SpotInterruption;
                DeadlineStopStarted = false;
            }
        }
        if (MaintenanceEventAtMs <= nowMs)
        {
            MaintenanceEventAtMs = long.MaxValue;
            BeginDrain(nowMs, DrainReasons.MaintenanceEvent, events);
        }
        if (PatchCheckMs <= nowMs && Lifecycle.Patch is { } cycle)
        {
            var decision = PatchPolicy.Decide(LaunchedAtMs, nowMs, Status == InstanceStates.Draining, cycle, Lifecycle.Window, Lifecycle.CalendarStart);
            switch (decision)
            {
                case PatchDecision.Drain { Reason: DrainReasons.PatchDay14 }:
                    // In the window, but the cluster bounds how many hosts replace at once: ask, and look
                    // again when the window closes (or at day 21).
                    WantsDrain = DrainReasons.PatchDay14;
                    PatchCheckMs = PatchPolicy.WindowEnd(nowMs, LaunchedAtMs, cycle, Lifecycle.Window, Lifecycle.CalendarStart);
                    break;
                case PatchDecision.Drain d:
                    BeginDrain(nowMs, d.Reason, events);
                    PatchCheckMs = long.MaxValue;
                    break;
                case PatchDecision.KeepRunning k:
                    WantsDrain = null;
                    // A draining host's next patch event is its hard limit, which the deadline covers.
                    PatchCheckMs = Status == InstanceStates.Draining ? long.MaxValue : k.NextCheckMs;
                    break;
                default:
                    PatchCheckMs = long.MaxValue;
                    break;
            }
        }
    }

    /// <summary>
    /// Sets the host DRAINING for <paramref name="reason"/>: it takes no new tasks, its managed tasks are replaced
    /// elsewhere by their services (start before stop), and it terminates once empty. A host already draining
    /// keeps its first reason. Returns whether the host started draining now.
    /// </summary>
    public bool BeginDrain(long nowMs, string reason, List<SimEvent> events)
    {
        if (IsFargate || Status is InstanceStates.Draining or InstanceStates.Terminated)
        {
            return false;
        }
        Status = InstanceStates.Draining;
        DrainReason = reason;
        DrainingSinceMs = nowMs;
        WantsDrain = null;
        events.Add(InstanceEvent(nowMs, InstanceStates.Draining, reason));
        return true;
    }

    /// <summary>
    /// The host is lost at once (zone failure, agent that stopped reporting): its tasks are STOPPED without a grace
    /// period and an instance terminates. A Fargate zone pool loses its tasks and stays.
    /// </summary>
    public void Fail(long nowMs, string reason, List<SimEvent> events, List<TaskUpdate> updates)
    {
        if (Status == InstanceStates.Terminated)
        {
            return;
        }
        BeginDrain(nowMs, reason, events);
        Kill(nowMs, StopReasons.InstanceTerminated(reason), events, updates);
        if (!IsFargate)
        {
            Terminate(nowMs, reason, events);
        }
    }

    private void Kill(long nowMs, string stopReason, List<SimEvent> events, List<TaskUpdate> updates)
    {
        foreach (var t in Tasks.Values)
        {
            t.StopReason ??= stopReason;
            t.NextAtMs = long.MaxValue;
            Transition(t, TaskStates.Stopped, nowMs, events, updates);
        }
        Tasks.Clear();
        Reserved = default;
    }

    private void Terminate(long nowMs, string? reason, List<SimEvent> events)
    {
        Status = InstanceStates.Terminated;
        TerminatedAtMs = nowMs;
        WantsDrain = null;
        events.Add(InstanceEvent(nowMs, InstanceStates.Terminated, reason));
    }

    private void Step(HostedTask t, long nowMs, LaunchPipeline pipeline, List<SimEvent> events, List<TaskUpdate> updates)
    {
        if (t.StopReason is not null && t.State is TaskStates.Provisioning or TaskStates.Pending or TaskStates.Activating or TaskStates.Running)
        {
            // Stop path: deregister from the load balancer (only a task that got as far as registering), SIGTERM,
            // wait for exit (at most stopTimeout, then SIGKILL).
            var registered = t.State is TaskStates.Activating or TaskStates.Running;
            Transition(t, TaskStates.Deactivating, nowMs, events, updates);
            t.NextAtMs = nowMs + (t.Launch.LoadBalancer && registered ? (long)pipeline.LoadBalancerDeregistration.TotalMilliseconds : 0);
            return;
        }
        switch (t.State)
        {
            case TaskStates.Provisioning:
                // PENDING: image pull (unless cached on this instance), then the container runtime starts it; a
                // start-up burst (e.g. a JVM) is slower when the host's CPU is contended.
                Transition(t, TaskStates.Pending, nowMs, events, updates);
                t.NextAtMs = ImagesReadyAt(t, nowMs, pipeline) + (long)pipeline.ContainerStart.TotalMilliseconds + StartupMs(t);
                break;
            case TaskStates.Pending when t.Launch.StartFails:
                // An essential container failed to start: nothing to signal, the task goes straight down.
                t.StopReason = StopReasons.CannotStart;
                t.ExitAtMs = nowMs;
                Transition(t, TaskStates.Deactivating, nowMs, events, updates);
                t.NextAtMs = nowMs;
                break;
            case TaskStates.Pending:
                // ACTIVATING: load balancer target registration until in service.
                Transition(t, TaskStates.Activating, nowMs, events, updates);
                t.NextAtMs = nowMs + (t.Launch.LoadBalancer ? (long)pipeline.LoadBalancerRegistration.TotalMilliseconds : 0);
                break;
            case TaskStates.Activating:
                t.RunningSinceMs = nowMs;
                t.UnhealthyAtMs = t.Launch.UnhealthyAfterMs is { } u ? nowMs + u : long.MaxValue;
                t.HealthyAtMs = t.Launch.HealthyAfterMs is { } h && t.UnhealthyAtMs == long.MaxValue ? nowMs + h : long.MaxValue;
                t.ExitAtMs = t.Launch.RunTimeMs is { } r ? nowMs + r : long.MaxValue;
                t.CrashAtMs = t.Launch.CrashAfterMs is { } c ? nowMs + c : long.MaxValue;
                t.InterruptAtMs = IsFargate ? Lifecycle.SpotInterruptionMs(t.Launch.TaskId, nowMs) : long.MaxValue;
                if (t.HealthyAtMs == nowMs)
                {
                    t.Health = TaskHealth.Healthy;
                }
                Transition(t, TaskStates.Running, nowMs, events, updates);
                t.NextAtMs = RunningNextMs(t);
                break;
            case TaskStates.Running:
                if (t.HealthyAtMs <= nowMs && t.Health != TaskHealth.Healthy)
                {
                    t.Health = TaskHealth.Healthy;
                    Transition(t, TaskStates.Running, nowMs, events, updates);
                }
                if (t.CrashAtMs <= nowMs && t.CrashAtMs < t.ExitAtMs)
                {
                    // An essential container crashed (monitoring notices it at once).
                    t.StopReason = StopReasons.Crashed;
                    t.ExitAtMs = nowMs;
                    Transition(t, TaskStates.Deactivating, nowMs, events, updates);
                    t.NextAtMs = nowMs;
                    break;
                }
                if (t.InterruptAtMs <= nowMs && t.ExitAtMs > nowMs)
                {
                    // Fargate Spot's two-minute warning: SIGTERM now (stopTimeout is at most two minutes, so the task is
                    // down before the capacity is taken); its service starts a replacement at once.
                    t.InterruptAtMs = long.MaxValue;
                    t.StopReason = StopReasons.SpotTaskInterrupted;
                    t.NextAtMs = nowMs;
                    break;
                }
                if (t.UnhealthyAtMs <= nowMs && t.ExitAtMs > nowMs)
                {
                    // The health check failed its retries: UNHEALTHY, and ECS replaces the task (the SIGTERM path).
                    t.UnhealthyAtMs = long.MaxValue;
                    t.Health = TaskHealth.Unhealthy;
                    Transition(t, TaskStates.Running, nowMs, events, updates);
                    t.StopReason = StopReasons.HealthCheckFailed;
                    t.NextAtMs = nowMs;
                    break;
                }
                if (t.ExitAtMs <= nowMs)
                {
                    // The essential container exited by itself: nothing to signal.
                    t.StopReason = StopReasons.EssentialExited;
                    Transition(t, TaskStates.Deactivating, nowMs, events, updates);
                    t.NextAtMs = nowMs;
                    t.ExitAtMs = nowMs;
                    break;
                }
                t.NextAtMs = RunningNextMs(t);
                break;
            case TaskStates.Deactivating:
                Transition(t, TaskStates.Stopping, nowMs, events, updates);
                var exit = t.ExitAtMs <= nowMs ? 0 : t.Launch.StopGraceMs(pipeline);
                t.NextAtMs = nowMs + exit;
                break;
            case TaskStates.Stopping:
                Transition(t, TaskStates.Deprovisioning, nowMs, events, updates);
                t.NextAtMs = nowMs + (t.Launch.Awsvpc ? (long)pipeline.EniDetach.TotalMilliseconds : 0);
                break;
            case TaskStates.Deprovisioning:
                Transition(t, TaskStates.Stopped, nowMs, events, updates);
                t.NextAtMs = long.MaxValue;
                break;
            default:
                t.NextAtMs = long.MaxValue;
                break;
        }
    }

    private long ImagesReadyAt(HostedTask t, long nowMs, LaunchPipeline pipeline)
    {
        var ready = nowMs;
        foreach (var image in t.Launch.Images)
        {
            if (IsFargate || !ImageReadyAtMs.TryGetValue(image.Name, out var at))
            {
                // Fargate has no shared cache between tasks: every task pulls.
                at = nowMs + pipeline.PullMs(image.SizeMiB, IsFargate ? pipeline.FargateImagePullMiBPerSecond : pipeline.ImagePullMiBPerSecond);
                if (!IsFargate)
                {
                    ImageReadyAtMs[image.Name] = at;
                }
            }
            ready = Math.Max(ready, at);
        }
        return ready;
    }

    private void Transition(HostedTask t, string state, long nowMs, List<SimEvent> events, List<TaskUpdate> updates)
    {
        t.State = state;
        events.Add(new SimEvent
        {
            TimeMs = nowMs, Kind = EventKinds.Task, Account = Account, Cluster = Cluster,
            Task = t.Launch.TaskId, State = state, Health = t.Health, Service = t.Launch.Service,
            StartedBy = t.Launch.StartedBy, CapacityProvider = CapacityProvider, Instance = EventInstance, Zone = Zone,
            Reason = state == TaskStates.Stopped ? t.StopReason : null,
        });
        // Reported when the task starts going down (every failure passes DEACTIVATING once), so that the service's
        // throttle holds back the replacement it starts at that moment.
        var unstable = state == TaskStates.Deactivating && StopReasons.IsFailure(t.StopReason) && !WasStable(t, nowMs);
        var stable = state == TaskStates.Running && t.Health == TaskHealth.Healthy && t.HealthyAtMs <= nowMs;
        updates.Add(new TaskUpdate(t.Launch.TaskId, t.Launch.Service, t.Launch.Group, state, t.Health, Zone, EventInstance, unstable, stable));
    }

    /// <summary>A task is stable once HEALTHY, or (without a health check) once RUNNING for the throttle's stable time.</summary>
    private bool WasStable(HostedTask t, long nowMs) =>
        t.HealthyAtMs <= nowMs && t.HealthyAtMs != long.MaxValue
        || t.Launch.HealthyAfterMs is null && t.RunningSinceMs != long.MaxValue && nowMs - t.RunningSinceMs >= Runtime.Backoff.StableAfterMs;

    private static long RunningNextMs(HostedTask t) => Math.Min(
        Math.Min(t.Health == TaskHealth.Healthy ? long.MaxValue : t.HealthyAtMs, t.ExitAtMs),
        Math.Min(Math.Min(t.CrashAtMs, t.UnhealthyAtMs), t.InterruptAtMs));

    // ---- task runtime: memory, OOM, CPU

    private static bool Live(HostedTask t) => t.State == TaskStates.Running && t.StopReason is null;

    private double UsableMemoryMiB => Type.MemoryMiB - Runtime.HostReservedMemoryMiB;

    private static string Key(HostedTask t, ContainerRuntime c) => $"{t.Launch.TaskId}/{c.Name}";

    private static bool Alive(HostedTask t, ContainerRuntime c) => t.DeadContainers is null || !t.DeadContainers.Contains(c.Name);

    /// <summary>
    /// One memory sample at <paramref name="sampleMs"/> (a multiple of the sample interval), acted on at <paramref name="nowMs"/>:
    /// containers over their hard limit (or tasks over their task-level memory) are OOM-killed; then, when the
    /// survivors' real use exceeds what the host has after its OS/agent reservation, the host's OOM killer picks
    /// victims by badness until memory is back. Running tasks without a usage model use what they reserve.
    /// </summary>
    public void CheckMemory(long sampleMs, long nowMs, List<SimEvent> events)
    {
        var interval = Runtime.MemorySampleIntervalMs;
        var sample = sampleMs / interval;
        var candidates = new List<OomCandidate>();
        double total = 0;
        foreach (var t in Tasks.Values)
        {
            if (!Live(t) || t.RunningSinceMs > sampleMs)
            {
                continue;
            }
            if (t.Launch.Containers.Count == 0)
            {
                total += t.Launch.Need.MemoryMiB;
                candidates.Add(new OomCandidate(t.Launch.TaskId, "", t.Launch.Need.MemoryMiB, true, t.Launch.OomScoreAdj, sampleMs - t.RunningSinceMs));
                continue;
            }
            var uses = new List<(ContainerRuntime C, double Use)>();
            foreach (var c in t.Launch.Containers)
            {
                if (!Alive(t, c))
                {
                    continue;
                }
                var use = c.Memory is { } m ? m.UseMiB(t.Launch.Seed, Key(t, c), sample, sampleMs - t.RunningSinceMs, interval) : c.ReservedMiB;
                uses.Add((c, use));
            }
            // The container's own cgroup limit, then the task's.
            var killed = uses.Where(u => u.C.HardLimitMiB is { } limit && u.Use > limit).Select(u => u.C).ToList();
            if (killed.Count == 0 && t.Launch.TaskMemoryLimitMiB is { } taskLimit && uses.Sum(u => u.Use) > taskLimit)
            {
                killed.Add(uses.OrderByDescending(u => u.Use).ThenBy(u => u.C.Name, StringComparer.Ordinal).First().C);
            }
            foreach (var c in killed)
            {
                OomKill(t, c.Name, c.Essential, OomScopes.Container, nowMs, events);
            }
            if (!Live(t))
            {
                continue;
            }
            foreach (var (c, use) in uses.Where(u => Alive(t, u.C)))
            {
                total += use;
                candidates.Add(new OomCandidate(t.Launch.TaskId, c.Name, use, c.Essential, t.Launch.OomScoreAdj, sampleMs - t.RunningSinceMs));
            }
        }
        if (IsFargate)
        {
            return;
        }
        foreach (var victim in OomKiller.ChooseVictims(candidates, total, UsableMemoryMiB))
        {
            OomKill(Tasks[victim.TaskId], victim.Container, victim.Essential, OomScopes.Host, nowMs, events);
        }
    }

    private void OomKill(HostedTask t, string container, bool essential, string scope, long nowMs, List<SimEvent> events)
    {
        events.Add(new SimEvent
        {
            TimeMs = nowMs, Kind = EventKinds.Oom, Account = Account, Cluster = Cluster,
            Task = t.Launch.TaskId, Container = container.Length == 0 ? null : container, Scope = scope, Instance = EventInstance,
        });
        if (!essential)
        {
            (t.DeadContainers ??= []).Add(container);
            return;
        }
        // SIGKILL by the kernel: the essential container is gone, the task goes down without a grace period.
        t.StopReason = StopReasons.OutOfMemory;
        t.ExitAtMs = nowMs;
        t.NextAtMs = nowMs;
    }

    /// <summary>
    /// The next memory sample: the first sample time after now at which some upper bound (a container's, a task's,
    /// or the host's sum) is above its limit; never when no bound can get there. Leaks make the bounds grow: the
    /// crossing is found by bisection on the (non-decreasing) bound, so a month-long leak costs a handful of samples.
    /// </summary>
    public long ScheduleMemoryCheck(long nowMs)
    {
        var interval = Runtime.MemorySampleIntervalMs;
        if (IsFargate || Runtime.HostReservedMemoryMiB <= 0)
        {
            // Without usage models tasks use what they reserve, and placement never reserves more than the host
            // registers: nothing to sample (checked without allocating, as this runs on every host step).
            var anyModel = false;
            foreach (var t in Tasks.Values)
            {
                if (t.Launch.Containers.Count > 0 && Live(t))
                {
                    anyModel = true;
                    break;
                }
            }
            if (!anyModel)
            {
                return long.MaxValue;
            }
        }
        var live = Tasks.Values.Where(Live).ToList();
        var first = long.MaxValue;
        foreach (var t in live)
        {
            foreach (var c in t.Launch.Containers)
            {
                if (c.Memory is { } m && c.HardLimitMiB is { } limit && Alive(t, c))
                {
                    first = Math.Min(first, FirstAbove(at => m.UpperBound(at - t.RunningSinceMs), nowMs, limit, m.Grows));
                }
            }
            if (t.Launch.TaskMemoryLimitMiB is { } taskLimit && t.Launch.Containers.Count > 0)
            {
                first = Math.Min(first, FirstAbove(at => TaskBound(t, at), nowMs, taskLimit, t.Launch.Containers.Any(c => c.Memory?.Grows == true)));
            }
        }
        if (!IsFargate)
        {
            var grows = live.Any(t => t.Launch.Containers.Any(c => c.Memory?.Grows == true));
            first = Math.Min(first, FirstAbove(at => live.Sum(t => TaskBound(t, at)), nowMs, UsableMemoryMiB, grows));
        }
        if (first == long.MaxValue)
        {
            return long.MaxValue;
        }
        // The first sample strictly after now at or after the crossing.
        var at = Math.Max(first, nowMs + 1);
        return (at + interval - 1) / interval * interval;
    }

    private static double TaskBound(HostedTask t, long atMs)
    {
        if (t.Launch.Containers.Count == 0)
        {
            return t.Launch.Need.MemoryMiB;
        }
        double sum = 0;
        foreach (var c in t.Launch.Containers)
        {
            if (Alive(t, c))
            {
                sum += c.Memory is { } m ? m.UpperBound(atMs - t.RunningSinceMs) : c.ReservedMiB;
            }
        }
        return sum;
    }

    /// <summary>The first time at or after <paramref name="fromMs"/> when the non-decreasing <paramref name="bound"/> exceeds <paramref name="limit"/>.</summary>
    public static long FirstAbove(Func<long, double> bound, long fromMs, double limit, bool grows)
    {
        if (bound(fromMs) > limit)
        {
            return fromMs;
        }
        if (!grows)
        {
            return long.MaxValue;
        }
        const long horizon = 10L * 365 * 86_400_000;
        long lo = fromMs, hi = fromMs + horizon;
        if (bound(hi) <= limit)
        {
            return long.MaxValue;
        }
        while (hi - lo > 1)
        {
            var mid = lo + (hi - lo) / 2;
            if (bound(mid) > limit)
            {
                hi = mid;
            }
            else
            {
                lo = mid;
            }
        }
        return hi;
    }

    /// <summary>
    /// Extra start time of a task's start-up bursts: each container with one gets its share of the CPU against the
    /// running containers' steady demand (by cpu shares; on Fargate the task has its own CPU), and the same CPU
    /// work takes longer when the share is smaller than the burst.
    /// </summary>
    private long StartupMs(HostedTask t)
    {
        long extra = 0;
        foreach (var c in t.Launch.Containers)
        {
            if (c.StartupMs <= 0)
            {
                continue;
            }
            var demands = new List<(int Shares, double Demand)>();
            if (!IsFargate)
            {
                foreach (var other in Tasks.Values.Where(Live))
                {
                    demands.AddRange(other.Launch.Containers.Where(x => Alive(other, x)).Select(x => (x.CpuShares, x.CpuDemand)));
                }
            }
            demands.Add((c.CpuShares, c.StartupCpu));
            var capacity = IsFargate ? t.Launch.Need.Cpu : Type.CpuUnits;
            var allocated = CpuShares.Allocate(capacity, demands)[^1];
            extra = Math.Max(extra, CpuShares.Stretch(c.StartupMs, c.StartupCpu, allocated));
        }
        return extra;
    }

    public SimEvent InstanceEvent(long nowMs, string state, string? reason) => new()
    {
        TimeMs = nowMs, Kind = EventKinds.Instance, Account = Account, Cluster = Cluster,
        Instance = Id, State = state, InstanceType = Type.Name, Zone = Zone, Ami = Ami,
        CapacityProvider = CapacityProvider, Reason = reason,
    };

    public InstanceSnapshot Snapshot() => new()
    {
        Id = Id,
        Zone = Zone,
        CapacityProvider = CapacityProvider,
        Type = Type,
        Active = Status == InstanceStates.Active,
        Launching = Status == InstanceStates.Launching,
        Terminated = Status == InstanceStates.Terminated,
        Free = Free,
        UsedHostPorts = UsedHostPorts(),
        CachedImages = ImageReadyAtMs.Count == 0 ? [] : ImageReadyAtMs.Keys.ToArray(),
        Groups = Groups(),
    };

    /// <summary>The distinct host ports its tasks hold, ascending.</summary>
    private int[] UsedHostPorts()
    {
        List<int>? ports = null;
        foreach (var t in Tasks.Values)
        {
            var taskPorts = t.Launch.HostPorts;
            for (var k = 0; k < taskPorts.Count; k++)
            {
                (ports ??= []).Add(taskPorts[k]);
            }
        }
        if (ports is null)
        {
            return [];
        }
        ports.Sort();
        var distinct = 0;
        for (var k = 0; k < ports.Count; k++)
        {
            if (k == 0 || ports[k] != ports[distinct - 1])
            {
                ports[distinct++] = ports[k];
            }
        }
        return ports.GetRange(0, distinct).ToArray();
    }

    /// <summary>The distinct groups of its tasks, in ordinal order. Tasks of one group usually come in runs: a run costs one comparison.</summary>
    private string[] Groups()
    {
        if (Tasks.Count == 0)
        {
            return [];
        }
        var groups = new List<string>(2);
        string? last = null;
        foreach (var t in Tasks.Values)
        {
            var g = t.Launch.Group;
            if ((object)g == last || g == last)
            {
                continue;
            }
            last = g;
            if (!groups.Contains(g))
            {
                groups.Add(g);
            }
        }
        if (groups.Count > 1)
        {
            groups.Sort(StringComparer.Ordinal);
        }
        return groups.ToArray();
    }
}
