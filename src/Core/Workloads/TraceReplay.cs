using Scheduler.Core.Catalog;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Workloads;

/// <summary>Where the replayed pods run: the trace's own nodes as pre-registered EXTERNAL hosts, or Managed Instances
/// (so that the placement phases launch hosts for them and the patch cycle acts on those hosts).</summary>
public enum TraceFleet { External, ManagedInstances }

/// <summary>How a pod becomes ECS work: a one-task service that scales 0 → 1 at creation_time and back to 0 at
/// deletion_time, or a standalone RunTask whose run time is deletion_time − creation_time.</summary>
public enum PodMapping { Service, RunTask }

/// <summary>Options of a trace replay (scenario field <c>generators[].traceReplay</c>).</summary>
public sealed record TraceReplayOptions
{
    public string Account { get; init; } = "alibaba";
    public string Cluster { get; init; } = "openb";
    public IReadOnlyList<string> Zones { get; init; } = ["a", "b", "c"];
    public TraceFleet Fleet { get; init; } = TraceFleet.External;
    /// <summary>QoS class → mapping; classes not listed map to <see cref="DefaultMapping"/>.</summary>
    public IReadOnlyDictionary<string, PodMapping> Qos { get; init; } = DefaultQos;
    public PodMapping DefaultMapping { get; init; } = PodMapping.RunTask;
    /// <summary>Trace GPU model → catalog GPU model; models not listed keep their trace name.</summary>
    public IReadOnlyDictionary<string, string> GpuModels { get; init; } = DefaultGpuModels;
    /// <summary>Trace seconds per simulated second: 1 replays in real time, 100 compresses a day into 14.4 minutes.</summary>
    public double TimeScale { get; init; } = 1;
    /// <summary>Only pods alive in [WindowFrom, WindowTo) of trace time are replayed; the window start becomes simulated time 0.</summary>
    public TimeSpan WindowFrom { get; init; }
    public TimeSpan? WindowTo { get; init; }
    /// <summary>At most this many pods (the first ones in creation order, after the window); null = all.</summary>
    public int? MaxPods { get; init; }
    /// <summary>Managed Instances: what CPU-only pods may run on (default C, M and R families).</summary>
    public InstanceRequirements? CpuRequirements { get; init; }
    /// <summary>Managed Instances: what GPU pods may run on (default: any type with at least one GPU).</summary>
    public InstanceRequirements? GpuRequirements { get; init; }
    public MaintenanceWindow? MaintenanceWindow { get; init; }
    public string Image { get; init; } = "alibaba/openb-pod:latest";
    public int ImageSizeMiB { get; init; } = 500;

    public static readonly IReadOnlyDictionary<string, PodMapping> DefaultQos = new SortedDictionary<string, PodMapping>(StringComparer.Ordinal)
    {
        ["LS"] = PodMapping.Service,
        ["Guaranteed"] = PodMapping.Service,
        ["BE"] = PodMapping.RunTask,
        ["Burstable"] = PodMapping.RunTask,
    };

    /// <summary>The catalog has T4, A10G and A100; the trace's older cards map to the nearest smaller catalog card and the
    /// undisclosed G1/G2/G3 codes to A100.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultGpuModels = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["T4"] = "T4", ["P100"] = "T4", ["V100M16"] = "T4", ["V100M32"] = "A10G", ["A10"] = "A10G",
        ["G1"] = "A100", ["G2"] = "A100", ["G3"] = "A100",
    };
}

/// <summary>What became of one pod: its mapping, provider, simulated arrival and departure, and why it can never be placed
/// (null when some node or allowed instance type can hold it).</summary>
public sealed record PodPlan(string Pod, string Qos, PodMapping Mapping, string CapacityProvider, string TaskDefinition,
    TimeSpan Arrive, TimeSpan Leave, string? UnplaceableReason);

public sealed record TraceReplayPlan(
    AccountSpec Account,
    IReadOnlyList<(TimeSpan At, TimelineAction Action)> Timeline,
    IReadOnlyList<PodPlan> Pods,
    int SkippedOutsideWindow,
    TimeSpan LastDeparture);

/// <summary>
/// Turns a trace (pods and nodes) into the ordinary scenario model: one account with one cluster, task definitions per
/// pod shape, a fleet, services for service-mapped pods and timeline actions for arrivals and departures.
/// Pure: the same trace and options give the same plan.
/// </summary>
public static class TraceReplay
{
    public const string ExternalProvider = "openb-nodes";
    public const string CpuProvider = "mi";
    public const string GpuProvider = "mi-gpu";

    public static TraceReplayPlan Expand(TraceReplayOptions o, IReadOnlyList<TracePod> pods, IReadOnlyList<TraceNode> nodes, InstanceTypeCatalog catalog)
    {
        var from = (long)o.WindowFrom.TotalSeconds;
        var to = o.WindowTo is { } w ? (long)w.TotalSeconds : long.MaxValue;
        var selected = new List<TracePod>();
        var skipped = 0;
        foreach (var p in pods.OrderBy(p => p.CreationTime).ThenBy(p => p.Line))
        {
            // A pod is in the window when it is alive in it; one that never is (zero-length, outside) is skipped.
            var alive = p.CreationTime < to && Math.Max(p.DeletionTime, p.CreationTime + 1) > from;
            if (!alive || (o.MaxPods is { } max && selected.Count >= max))
            {
                skipped++;
                continue;
            }
            selected.Add(p);
        }

        var providers = new List<CapacityProviderSpec>();
        var fits = new Func<TaskShape, string?>(_ => null);
        var gpuProviders = new SortedDictionary<string, CapacityProviderSpec>(StringComparer.Ordinal);
        if (o.Fleet == TraceFleet.External)
        {
            var shapes = nodes.GroupBy(n => (n.CpuMilli, n.MemoryMiB, n.Gpus, n.Model))
                .Select(g => new ExternalInstanceSpec(g.Key.CpuMilli / 1000.0, g.Key.MemoryMiB, g.Count(), g.Key.Gpus,
                    g.Key.Model is null ? null : o.GpuModels.GetValueOrDefault(g.Key.Model, g.Key.Model)))
                .ToArray();
            providers.Add(new CapacityProviderSpec { Name = ExternalProvider, Type = CapacityType.External, Instances = shapes });
            fits = shape => FitsNodes(shape, nodes);
        }
        else
        {
            var cpuTypes = catalog.Select(o.CpuRequirements);
            providers.Add(new CapacityProviderSpec
            {
                Name = CpuProvider, Type = CapacityType.ManagedInstances, InstanceRequirements = o.CpuRequirements,
                MaintenanceWindow = o.MaintenanceWindow,
            });
            var gpuRequirements = o.GpuRequirements ?? new InstanceRequirements { Gpus = new Range<int>(1, null) };
            fits = shape => FitsTypes(shape, shape.Gpus == 0 ? cpuTypes : catalog.Select(GpuRequirementsFor(shape, gpuRequirements)));
            foreach (var models in selected.Where(p => TaskShape.Of(p, o).Gpus > 0).Select(p => ModelSet(p, o)).Distinct().Order(StringComparer.Ordinal))
            {
                var name = models.Length == 0 ? GpuProvider : $"{GpuProvider}-{models}";
                gpuProviders[models] = new CapacityProviderSpec
                {
                    Name = name, Type = CapacityType.ManagedInstances, MaintenanceWindow = o.MaintenanceWindow,
                    InstanceRequirements = models.Length == 0 ? gpuRequirements : gpuRequirements with { GpuModels = models.Split('|') },
                };
            }
            providers.AddRange(gpuProviders.Values);
        }

        var taskDefinitions = new SortedDictionary<string, TaskDefinitionSpec>(StringComparer.Ordinal);
        var services = new List<ServiceSpec>();
        var timeline = new List<(TimeSpan, TimelineAction)>();
        var plans = new List<PodPlan>();
        var last = TimeSpan.Zero;
        foreach (var p in selected)
        {
            var shape = TaskShape.Of(p, o);
            var family = shape.Family;
            if (!taskDefinitions.ContainsKey(family))
            {
                taskDefinitions[family] = new TaskDefinitionSpec
                {
                    Family = family,
                    Cpu = shape.Cpu,
                    Memory = shape.MemoryMiB,
                    NetworkMode = NetworkMode.Awsvpc,
                    Containers =
                    [
                        new ContainerSpec
                        {
                            Name = "main", Image = o.Image, ImageSizeMiB = o.ImageSizeMiB, Cpu = shape.Cpu,
                            MemoryReservation = shape.MemoryMiB, Memory = shape.MemoryMiB, Gpus = shape.Gpus,
                        },
                    ],
                };
            }
            var provider = o.Fleet == TraceFleet.External ? ExternalProvider
                : shape.Gpus == 0 ? CpuProvider : gpuProviders[ModelSet(p, o)].Name;
            var arrive = Simulated(Math.Max(p.CreationTime, from) - from, o.TimeScale);
            var leaveTrace = Math.Min(Math.Max(p.DeletionTime, p.CreationTime + 1), to);
            // Every pod runs for at least a millisecond of simulated time, however strong the compression.
            var leave = Max(Simulated(leaveTrace - from, o.TimeScale), arrive + TimeSpan.FromMilliseconds(1));
            var mapping = o.Qos.TryGetValue(p.Qos, out var m) ? m : o.DefaultMapping;
            if (mapping == PodMapping.Service)
            {
                services.Add(new ServiceSpec
                {
                    Name = p.Name, TaskDefinition = family, DesiredCount = 0,
                    CapacityProviderStrategy = [new CapacityProviderStrategyItem(provider, 1, 0)],
                    // A pod is one replica: keep it up while its host is drained (start before stop), never two.
                    Deployment = new DeploymentConfiguration { MinimumHealthyPercent = 100, MaximumPercent = 200 },
                });
                timeline.Add((arrive, new UpdateServiceAction(o.Account, o.Cluster, p.Name, 1, null, false)));
                timeline.Add((leave, new UpdateServiceAction(o.Account, o.Cluster, p.Name, 0, null, false)));
            }
            else
            {
                var runTime = new DurationDistribution(leave - arrive, TimeSpan.Zero, TimeSpan.Zero);
                timeline.Add((arrive, new RunTaskAction(o.Account, o.Cluster, family, 1, provider, runTime, p.Name)));
            }
            last = Max(last, leave);
            plans.Add(new PodPlan(p.Name, p.Qos, mapping, provider, family, arrive, leave, fits(shape)));
        }

        var account = new AccountSpec
        {
            Id = o.Account,
            // One RunTask call per pod: the replay must not lose pods to the API throttle when many arrive together.
            Limits = new Dictionary<string, BucketLimit>(StringComparer.Ordinal) { ["runTask"] = new BucketLimit(100_000, 100_000) },
            Clusters =
            [
                new ClusterSpec
                {
                    Name = o.Cluster, Zones = o.Zones, CapacityProviders = providers,
                    TaskDefinitions = taskDefinitions.Values.ToArray(), Services = services,
                },
            ],
        };
        return new TraceReplayPlan(account, timeline, plans, skipped, last);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Simulated(long traceSeconds, double scale) =>
        TimeSpan.FromMilliseconds(Math.Round(traceSeconds * 1000.0 / scale));

    /// <summary>The pod's allowed GPU models mapped to catalog names, sorted and '|'-joined; "" = any.</summary>
    private static string ModelSet(TracePod p, TraceReplayOptions o) =>
        string.Join('|', p.GpuSpec.Select(m => o.GpuModels.GetValueOrDefault(m, m)).Distinct().Order(StringComparer.Ordinal));

    private static InstanceRequirements GpuRequirementsFor(TaskShape shape, InstanceRequirements baseline) =>
        shape.GpuModels.Length == 0 ? baseline : baseline with { GpuModels = shape.GpuModels.Split('|') };

    private static string? FitsNodes(TaskShape shape, IReadOnlyList<TraceNode> nodes)
    {
        if (nodes.Count == 0)
        {
            return "the trace has no nodes";
        }
        var big = nodes.Where(n => NodeCpuUnits(n) >= shape.Cpu && n.MemoryMiB >= shape.MemoryMiB && n.Gpus >= shape.Gpus).ToList();
        if (big.Count == 0)
        {
            return $"needs {shape.Cpu} cpu units, {shape.MemoryMiB} MiB and {shape.Gpus} GPUs, more than any node of the trace "
                + $"(at most {nodes.Max(NodeCpuUnits)} cpu units, {nodes.Max(n => n.MemoryMiB)} MiB, {nodes.Max(n => n.Gpus)} GPUs)";
        }
        if (shape.Gpus > 0 && shape.TraceGpuModels.Count > 0 && !big.Any(n => n.Model is { } m && shape.TraceGpuModels.Contains(m)))
        {
            return $"needs GPU model {string.Join(" or ", shape.TraceGpuModels)} on a node large enough; no such node";
        }
        return null;
    }

    /// <summary>As the engine registers an EXTERNAL host: whole vCPUs, 1024 units each.</summary>
    private static long NodeCpuUnits(TraceNode n) => (long)Math.Ceiling(n.CpuMilli / 1000.0) * 1024;

    private static string? FitsTypes(TaskShape shape, IReadOnlyList<InstanceType> types)
    {
        if (types.Count == 0)
        {
            return shape.GpuModels.Length == 0
                ? "no instance type meets the capacity provider's requirements"
                : $"no instance type has GPU model {shape.GpuModels.Replace("|", " or ")}";
        }
        if (types.Any(t => t.CpuUnits >= shape.Cpu && t.MemoryMiB >= shape.MemoryMiB && t.Gpus >= shape.Gpus))
        {
            return null;
        }
        return $"needs {shape.Cpu} cpu units, {shape.MemoryMiB} MiB and {shape.Gpus} GPUs, more than any instance type the capacity provider may launch "
            + $"(at most {types.Max(t => t.CpuUnits)} cpu units, {types.Max(t => t.MemoryMiB)} MiB, {types.Max(t => t.Gpus)} GPUs)";
    }

    /// <summary>What a pod reserves. GPU sharing is not modelled: a pod with a share of one GPU (gpu_milli &lt; 1000) reserves a whole one.</summary>
    private sealed record TaskShape(int Cpu, int MemoryMiB, int Gpus, string GpuModels, IReadOnlyList<string> TraceGpuModels)
    {
        public string Family => $"pod-{Cpu}c-{MemoryMiB}m-{Gpus}g"
            + (GpuModels.Length == 0 ? "" : "-" + new string(GpuModels.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray()));

        public static TaskShape Of(TracePod p, TraceReplayOptions o) => new(
            (int)Math.Max(1, Math.Min(int.MaxValue, (p.CpuMilli * 1024 + 999) / 1000)),
            (int)Math.Max(1, Math.Min(int.MaxValue, p.MemoryMiB)),
            p.NumGpu > 0 ? p.NumGpu : p.GpuMilli > 0 ? 1 : 0,
            p.NumGpu > 0 || p.GpuMilli > 0 ? ModelSet(p, o) : "",
            p.GpuSpec);
    }
}
