using Scheduler.Core.Placement;
using Scheduler.Core.Randomness;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Engine;

/// <summary>Turns a task definition into the launch record of one task. Random draws are keyed by the task id.</summary>
public static class TaskLaunches
{
    /// <summary>The spread group of standalone tasks of a task definition family (a service's tasks use the service's name).</summary>
    public static string FamilyGroup(string family) => $"family:{family}";

    /// <summary>Finds "family" (latest revision) or "family:revision".</summary>
    public static TaskDefinitionSpec? Resolve(IReadOnlyList<TaskDefinitionSpec> definitions, string reference)
    {
        var colon = reference.LastIndexOf(':');
        if (colon > 0 && int.TryParse(reference.AsSpan(colon + 1), out var revision))
        {
            var family = reference[..colon];
            return definitions.FirstOrDefault(d => d.Family == family && d.Revision == revision);
        }
        return definitions.Where(d => d.Family == reference).MaxBy(d => d.Revision);
    }

    public static bool IsFargate(CapacityType type) => type is CapacityType.Fargate or CapacityType.FargateSpot;

    public static TaskLaunch Create(string taskId, TaskDefinitionSpec def, string? service, string capacityProvider,
        long nowMs, long seed, DurationDistribution? runTimeOverride, bool loadBalancer, bool assignPublicIp) =>
        Template(def, service, capacityProvider, runTimeOverride, loadBalancer, assignPublicIp).Create(taskId, nowMs, seed);

    /// <summary>
    /// What every task of one definition, service and capacity provider has in common, worked out once: a
    /// batch of tasks shares its strings and arrays, and only the per-task draws differ.
    /// </summary>
    public static TaskLaunchTemplate Template(TaskDefinitionSpec def, string? service, string capacityProvider,
        DurationDistribution? runTimeOverride, bool loadBalancer, bool assignPublicIp)
    {
        var health = def.Containers.Where(c => c.Essential && c.HealthCheck is not null).Select(c => c.HealthCheck!).ToList();
        long? healthyAfter = health.Count == 0
            ? null
            : health.Max(h => (long)(h.Interval.TotalMilliseconds * h.HealthyThreshold));
        return new TaskLaunchTemplate(new TaskLaunch
        {
            TaskId = "",
            Service = service,
            StartedBy = service is null ? "runTask" : $"ecs-svc/{service}",
            CapacityProvider = capacityProvider,
            TaskDefinition = $"{def.Family}:{def.Revision}",
            Group = service ?? FamilyGroup(def.Family),
            Need = new Resources(def.ReservedCpu, def.ReservedMemoryMiB, def.ReservedGpus),
            // awsvpc tasks listen on their own network interface: they take no port of the host.
            HostPorts = def.NetworkMode switch
            {
                NetworkMode.Host => def.Containers.SelectMany(c => c.PortMappings).Select(p => p.HostPort ?? p.ContainerPort).Order().ToArray(),
                NetworkMode.Bridge => def.Containers.SelectMany(c => c.PortMappings).Where(p => p.HostPort is > 0).Select(p => p.HostPort!.Value).Order().ToArray(),
                _ => [],
            },
            Images = def.Containers.Select(c => new ImageRef(c.Image, c.ImageSizeMiB)).ToArray(),
            Awsvpc = def.NetworkMode == NetworkMode.Awsvpc,
            LoadBalancer = loadBalancer,
            PublicIp = assignPublicIp && def.NetworkMode == NetworkMode.Awsvpc,
            HealthyAfterMs = healthyAfter,
            StopTimeoutMs = (long)def.StopTimeout.TotalMilliseconds,
            ContainerExitMs = def.Containers.Any(c => c.ExitTime is not null)
                ? def.Containers.Select(c => c.ExitTime is { } e ? (long?)e.TotalMilliseconds : null).ToArray()
                : [],
            DistinctInstance = def.PlacementConstraints.Any(c => c.Type == PlacementConstraintType.DistinctInstance),
            MemberOf = def.PlacementConstraints.FirstOrDefault(c => c.Type == PlacementConstraintType.MemberOf)?.Expression,
            Containers = def.Containers.Any(c => c.Usage is not null) ? def.Containers.Select(c => ContainerRuntimeOf(c, def)).ToArray() : [],
            TaskMemoryLimitMiB = def.Memory,
            OomScoreAdj = def.OomScoreAdj,
        }, runTimeOverride ?? def.RunTime, def);
    }

    /// <summary>ECS's default health check retries: this many failed checks after the start period make a container UNHEALTHY.</summary>
    public const int UnhealthyRetries = 3;

    /// <summary>An exponential time to crash for a rate per day, from a uniform draw in [0, 1); at least 1 ms.</summary>
    public static long TimeToCrashMs(double crashesPerDay, double u) =>
        (long)Math.Max(1, Math.Min(1e15, -Math.Log(1 - u) / crashesPerDay * 86_400_000));

    /// <summary>What the host needs of one container: limits, usage model (the heap sized from what the container can see), CPU.</summary>
    public static Runtime.ContainerRuntime ContainerRuntimeOf(ContainerSpec c, TaskDefinitionSpec def)
    {
        var usage = c.Usage;
        Runtime.MemoryUsageModel? model = null;
        if (usage is not null)
        {
            // The limit the process can see: its own hard limit, else the task's (the cgroup), else none (the heap recipe's fallback).
            double? visible = c.Memory ?? def.Memory;
            model = new Runtime.MemoryUsageModel
            {
                MeanMiB = usage.MeanMiB,
                StddevMiB = usage.StddevMiB,
                LeakMiBPerHour = usage.LeakMiBPerHour,
                SpikeEveryMs = usage.Spikes is { } s ? (long)s.Every.TotalMilliseconds : 0,
                SpikeLengthMs = usage.Spikes is { } s2 ? (long)s2.Length.TotalMilliseconds : 0,
                SpikeExtraMiB = usage.Spikes?.ExtraMiB ?? 0,
                HeapMiB = usage.Heap?.HeapMiB(visible),
                OverheadMiB = usage.Heap?.OverheadMiB ?? 0,
            };
        }
        return new Runtime.ContainerRuntime
        {
            Name = c.Name,
            Essential = c.Essential,
            HardLimitMiB = c.Memory,
            ReservedMiB = c.MemoryReservation ?? c.Memory ?? 0,
            Memory = model,
            CpuShares = Math.Max(Runtime.CpuShares.MinimumShares, c.Cpu),
            CpuDemand = usage?.Cpu?.Units ?? 0,
            StartupCpu = usage?.Cpu?.StartupUnits ?? 0,
            StartupMs = (long)(usage?.Cpu?.Startup.TotalMilliseconds ?? 0),
        };
    }


    /// <summary>A draw from a duration distribution, whole milliseconds, never below its minimum.</summary>
    public static long Draw(DurationDistribution d, long seed, string entity)
    {
        var mean = d.Mean.TotalMilliseconds;
        var ms = d.Stddev == TimeSpan.Zero ? mean : mean + d.Stddev.TotalMilliseconds * DeterministicRandom.NextNormal(seed, entity, "runTime", 0);
        return (long)Math.Max(d.Min.TotalMilliseconds, Math.Round(ms));
    }
}

/// <summary>The shared part of a batch of task launches (see <see cref="TaskLaunches.Template"/>).</summary>
public sealed record TaskLaunchTemplate(TaskLaunch Shared, DurationDistribution? RunTime, TaskDefinitionSpec Definition)
{
    /// <summary>One task: its id, creation time and the draws keyed by its id (run time, launch jitter, failures).</summary>
    /// <summary>No essential container of the definition can fail: the per-task failure draws are skipped (they would all say no).</summary>
    private readonly bool _neverFails = !Definition.Containers.Any(c => c.Essential && c.Failures is not null);

    public TaskLaunch Create(string taskId, long nowMs, long seed) => _neverFails
        ? Shared with
        {
            TaskId = taskId,
            LaunchJitter = DeterministicRandom.NextNormal(seed, taskId, "launch", 0),
            RunTimeMs = RunTime is null ? null : TaskLaunches.Draw(RunTime, seed, taskId),
            CreatedAtMs = nowMs,
            Seed = seed,
        }
        : CreateWithFailures(taskId, nowMs, seed);

    private TaskLaunch CreateWithFailures(string taskId, long nowMs, long seed) => Shared with
    {
        TaskId = taskId,
        LaunchJitter = DeterministicRandom.NextNormal(seed, taskId, "launch", 0),
        RunTimeMs = RunTime is null ? null : TaskLaunches.Draw(RunTime, seed, taskId),
        CreatedAtMs = nowMs,
        Seed = seed,
        StartFails = Definition.Containers.Any(c => c.Essential && c.Failures is { StartFailure: > 0 } f
            && DeterministicRandom.NextDouble(seed, $"{taskId}/{c.Name}", "startFailure", 0) < f.StartFailure),
        CrashAfterMs = Definition.Containers.Where(c => c.Essential && c.Failures is { CrashesPerDay: > 0 })
            .Select(c => (long?)TaskLaunches.TimeToCrashMs(c.Failures!.CrashesPerDay, DeterministicRandom.NextDouble(seed, $"{taskId}/{c.Name}", "crash", 0)))
            .Min(),
        UnhealthyAfterMs = Definition.Containers.Where(c => c.Essential && c.HealthCheck is not null && c.Failures is { HealthCheckFailure: > 0 } f
                && DeterministicRandom.NextDouble(seed, $"{taskId}/{c.Name}", "healthCheck", 0) < f.HealthCheckFailure)
            .Select(c => (long?)(c.HealthCheck!.StartPeriod.TotalMilliseconds + c.HealthCheck.Interval.TotalMilliseconds * TaskLaunches.UnhealthyRetries))
            .Min(),
    };
}
