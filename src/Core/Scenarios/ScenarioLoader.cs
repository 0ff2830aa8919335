using System.Globalization;
using System.Text.RegularExpressions;
using Scheduler.Core.Catalog;
using YamlDotNet.RepresentationModel;

namespace Scheduler.Core.Scenarios;

/// <summary>
/// Reads a scenario file (YAML, or JSON) into a validated <see cref="Scenario"/>.
/// Every problem of the file is reported at once with its line and column; user mistakes never throw.
/// </summary>
public static class ScenarioLoader
{
    /// <summary>
    /// Loads a scenario file. <paramref name="progress"/> is told how far a large load has come (every
    /// <see cref="ScenarioLoadProgress.Every"/> timeline entries or entities); <paramref name="cancellation"/> stops it.
    /// </summary>
    public static ScenarioLoadResult Load(string path, ScenarioLimits? limits = null, CancellationToken cancellation = default,
        Action<ScenarioLoadProgress>? progress = null)
    {
        limits ??= ScenarioLimits.Default;
        return ReadText(path, limits, out var error, cancellation) is { } text
            ? new ScenarioParser(path, limits, cancellation, progress).Run(text)
            : new ScenarioLoadResult(null, [error!]);
    }

    /// <summary>The text of a scenario file, or null and the one error that says why it cannot be read.</summary>
    internal static string? ReadText(string path, ScenarioLimits limits, out ScenarioError? error, CancellationToken cancellation = default)
    {
        error = null;
        if (Directory.Exists(path))
        {
            error = new ScenarioError(path, 1, 1, "", "this is a directory, not a scenario file; give the .yaml or .json file inside it");
            return null;
        }
        var read = ScenarioFiles.Read(path, limits.Bytes, cancellation);
        if (read.Text is { } text)
        {
            return text;
        }
        var message = read.Kind switch
        {
            ScenarioTextProblem.TooLarge => $"the file is larger than a scenario may be (in bytes: {limits.Hint("bytes")})",
            ScenarioTextProblem.BadText => read.Problem!,
            _ => $"cannot read the scenario: {read.Problem}",
        };
        error = new ScenarioError(path, read.Line, read.Column, "", message);
        return null;
    }

    /// <summary>Parses scenario text; <paramref name="fileName"/> names it in errors and anchors a relative <c>instanceCatalog</c>.</summary>
    public static ScenarioLoadResult Parse(string text, string fileName, ScenarioLimits? limits = null, CancellationToken cancellation = default) =>
        new ScenarioParser(fileName, limits ?? ScenarioLimits.Default, cancellation).Run(text);
}

internal sealed partial class ScenarioParser(string fileName, ScenarioLimits limits, CancellationToken cancellation = default,
    Action<ScenarioLoadProgress>? progress = null)
{
    /// <summary>Stops the load when the command is interrupted; a live scenario drops it once loaded (see <see cref="EndLoad"/>).</summary>
    private CancellationToken _cancellation = cancellation;

    /// <summary>Told how far the load has come; dropped once loaded, like the cancellation.</summary>
    private Action<ScenarioLoadProgress>? _progress = progress;

    private static readonly string[] TopFields =
        ["name", "seed", "start", "duration", "until", "maxDuration", "tick", "instanceCatalog", "initialAmi", "launchPipeline", "runtime", "accounts", "generators", "timeline"];
    private static readonly string[] AccountFields = ["id", "limits", "clusters", "credentials"];
    private static readonly string[] LimitFields = [.. RateLimits.BucketNames.All];
    private static readonly string[] BucketFields = ["burst", "perSecond"];
    private static readonly string[] ClusterFields = ["name", "zones", "capacityProviders", "taskDefinitions", "services", "rebalancing", "jobQueues", "placement"];
    private static readonly string[] CapacityProviderFields =
    [
        "name", "type", "instanceRequirements", "maintenanceWindow", "instanceTypes", "initialInstances", "maxInstances", "instances",
        "patchCycle", "maintenanceEventRate", "spotInterruptionRate", "infrastructureOptimization",
    ];
    private static readonly string[] OptimizationFields = ["enabled", "scaleInAfter", "utilizationThreshold", "maxConcurrent"];
    private static readonly string[] PatchCycleFields =
        ["replaceInWindowAfter", "replaceAnyTimeAfter", "maxLifetime", "maxConcurrentReplacements"];
    private static readonly string[] RequirementFields =
    [
        "vcpu", "memoryMiB", "memoryMiBPerVcpu", "families", "excludedFamilies", "allowedTypes", "excludedTypes",
        "gpus", "gpuModels", "bareMetal",
    ];
    private static readonly string[] RangeFields = ["min", "max"];
    private static readonly string[] WindowFields = ["day", "start", "length"];
    private static readonly string[] ExternalInstanceFields = ["vcpu", "memoryMiB", "count", "gpus"];
    private static readonly string[] TaskDefinitionFields =
        ["family", "revision", "cpu", "memory", "networkMode", "stopTimeout", "runTime", "placementConstraints", "containers", "oomScoreAdj"];
    private static readonly string[] RunTimeFields = ["mean", "stddev", "min"];
    private static readonly string[] ConstraintFields = ["type", "expression"];
    private static readonly string[] ContainerFields =
    [
        "name", "image", "imageSizeMiB", "cpu", "memoryReservation", "memory", "gpus", "essential", "usage",
        "healthCheck", "portMappings", "failures", "exitTime",
    ];
    private static readonly string[] UsageFields = ["memoryMiB", "leakMiBPerHour", "spikes", "heap", "cpu"];
    private static readonly string[] SpikeFields = ["every", "length", "extraMiB"];
    private static readonly string[] HeapFields = ["percent", "minMiB", "maxMiB", "fallbackMiB", "overheadMiB"];
    private static readonly string[] CpuUsageFields = ["units", "startupUnits", "startup"];
    private static readonly string[] FailureFields = ["startFailure", "crashesPerDay", "healthCheckFailure"];
    private static readonly string[] RuntimeFields = ["memorySampleInterval", "hostReservedMemoryMiB", "backoff"];
    private static readonly string[] BackoffFields = ["base", "max", "stableAfter"];
    private static readonly string[] MeanStddevFields = ["mean", "stddev"];
    private static readonly string[] HealthCheckFields = ["startPeriod", "interval", "healthyThreshold"];
    private static readonly string[] PortMappingFields = ["containerPort", "hostPort"];
    private static readonly string[] ServiceFields =
    [
        "name", "taskDefinition", "desiredCount", "capacityProvider", "capacityProviderStrategy", "loadBalancer",
        "assignPublicIp", "deployment", "protectedFromScaleIn",
    ];
    private static readonly string[] StrategyFields = ["capacityProvider", "weight", "base"];
    private static readonly string[] DeploymentFields = ["minimumHealthyPercent", "maximumPercent", "circuitBreaker"];
    private static readonly string[] CircuitBreakerFields = ["enable", "rollback"];
    private static readonly string[] ActionNames =
        ["runTask", "updateService", "failZone", "drainInstance", "releaseAmi", "maintenanceEvent", "interruptSpot", "disconnectAgent", "updateTaskProtection",
         "submitJob", "cancelJob", "createJobQueue", "createCluster", "registerTaskDefinition", "createService", "stopTask"];
    private static readonly string[] TimelineFields = ["at", .. ActionNames];
    private static readonly string[] RunTaskFields = ["account", "cluster", "taskDefinition", "count", "capacityProvider", "runTime", "startedBy", "taskIds"];
    private static readonly string[] UpdateServiceFields =
        ["account", "cluster", "service", "desiredCount", "taskDefinition", "forceNewDeployment"];
    private static readonly string[] FailZoneFields = ["account", "cluster", "zone", "for"];
    private static readonly string[] DrainInstanceFields = ["account", "cluster", "instance"];
    private static readonly string[] ReleaseAmiFields = ["version"];
    private static readonly string[] TaskProtectionFields = ["account", "cluster", "service", "tasks", "protectionEnabled", "expiresIn"];

    private static readonly Dictionary<string, CapacityType> CapacityTypes = new()
    {
        ["FARGATE"] = CapacityType.Fargate,
        ["FARGATE_SPOT"] = CapacityType.FargateSpot,
        ["EC2"] = CapacityType.Ec2,
        ["MANAGED_INSTANCES"] = CapacityType.ManagedInstances,
        ["EXTERNAL"] = CapacityType.External,
    };
    private static readonly Dictionary<string, NetworkMode> NetworkModes = new()
    {
        ["awsvpc"] = NetworkMode.Awsvpc, ["bridge"] = NetworkMode.Bridge, ["host"] = NetworkMode.Host,
    };
    private static readonly Dictionary<string, BareMetal> BareMetalValues = new()
    {
        ["excluded"] = BareMetal.Excluded, ["included"] = BareMetal.Included, ["required"] = BareMetal.Required,
    };
    private static readonly Dictionary<string, PlacementConstraintType> ConstraintTypes = new()
    {
        ["distinctInstance"] = PlacementConstraintType.DistinctInstance, ["memberOf"] = PlacementConstraintType.MemberOf,
    };
    private static readonly Dictionary<string, DayOfWeek> Days =
        Enum.GetValues<DayOfWeek>().ToDictionary(d => d.ToString().ToLowerInvariant());

    private readonly YamlContext _ctx = new(fileName, limits, cancellation);
    private readonly ErrorList _catalogErrors = new(inFileOrder: false);
    private readonly Dictionary<string, Dictionary<string, ClusterInfo>> _accounts = new(StringComparer.Ordinal);
    private InstanceTypeCatalog? _catalog = InstanceTypeCatalog.Default;

    private sealed class ClusterInfo(string account, string name, IReadOnlyList<string> zones)
    {
        public string Account { get; } = account;
        public string Name { get; } = name;
        public IReadOnlyList<string> Zones { get; } = zones;
        public Dictionary<string, CapacityProviderEntry> CapacityProviders { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, SortedDictionary<int, TaskDefinitionEntry>> TaskDefinitions { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, ServiceEntry> Services { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, (JobQueueSpec Spec, List<CapacityProviderEntry> Providers)> JobQueues { get; } = new(StringComparer.Ordinal);
    }

    /// <summary><see cref="Ok"/>: the item itself had no errors, so checks that combine it with others are meaningful.</summary>
    private sealed record CapacityProviderEntry(CapacityProviderSpec Spec, bool Ok, IReadOnlyList<InstanceType>? AllowedTypes);

    private sealed record TaskDefinitionEntry(TaskDefinitionSpec Spec, bool Ok)
    {
        public string Label => $"{Spec.Family}:{Spec.Revision}";
    }

    private sealed record ServiceEntry(ServiceSpec Spec, IReadOnlyList<CapacityProviderEntry> CapacityProviders);

    /// <summary>Longest scenario name: the name becomes a folder name, which file systems keep to 255 bytes.</summary>
    public const int MaxNameLength = 255;

    /// <summary>Most zones a cluster may span (a region has a handful; placement spreads over each).</summary>
    public const int MaxZones = 26;

    /// <summary>As in ECS: containers per task definition, placement constraints per task, providers per strategy.</summary>
    public const int MaxContainers = 10;
    public const int MaxPlacementConstraints = 10;
    public const int MaxStrategyItems = 20;

    public ScenarioLoadResult Run(string text)
    {
        try
        {
            return RunWithinLimits(text);
        }
        catch (LimitExceededException e)
        {
            _ctx.Errors.Add(e.Error);
            return Result(null);
        }
    }

    private ScenarioLoadResult RunWithinLimits(string text)
    {
        var root = _ctx.LoadRoot(text);
        var m = root is null ? null : MapReader.Open(_ctx, root, "", TopFields);
        if (m is null)
        {
            return Result(null);
        }

        var name = m.String("name", required: true);
        if (name is { Length: > MaxNameLength })
        {
            _ctx.Error(m["name"]!, "name", $"the name has {name.Length:N0} characters; it names the output folder, so at most {MaxNameLength}");
            name = null;
        }
        else if (name is not null && ScenarioFiles.ControlCharacterAt(name) is var at and >= 0)
        {
            _ctx.Error(m["name"]!, "name", $"the name holds a control character (U+{(int)name[at]:X4} at position {at + 1}); it names the run and its output folder, so write it on one line without tabs or other control characters");
            name = null;
        }
        var seed = m.Long("seed") ?? 42;
        var start = new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);
        if (m["start"] is { } startNode && _ctx.String(startNode, "start") is { } startText)
        {
            if (DateTimeOffset.TryParse(startText, CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                start = parsed;
            }
            else
            {
                _ctx.Error(startNode, "start", $"'{startText}' is not a date and time (expected e.g. 2026-01-05T00:00:00Z)");
            }
        }
        TimeSpan? duration = m.Duration("duration", positive: true);
        var untilSettled = false;
        if (m["until"] is { } untilNode)
        {
            if (m.Has("duration"))
            {
                _ctx.Error(untilNode, "until", "give duration or until, not both");
            }
            else if (_ctx.String(untilNode, "until") is { } until)
            {
                if (until == "settled")
                {
                    untilSettled = true;
                }
                else
                {
                    _ctx.Error(untilNode, "until", $"unknown value '{until}'; the only value is 'settled'");
                }
            }
        }
        if (!untilSettled && !m.Has("duration"))
        {
            duration = TimeSpan.FromDays(1);
        }
        var maxDuration = m.Duration("maxDuration", positive: true);
        if (maxDuration is not null && !untilSettled)
        {
            _ctx.Error(m["maxDuration"]!, "maxDuration", "maxDuration bounds an 'until: settled' run; with a fixed duration, leave it out");
        }
        var tick = m.Duration("tick", positive: true) ?? TimeSpan.FromSeconds(1);
        if (!untilSettled && duration is { } length && tick > length && m["tick"] is { } tickNode)
        {
            _ctx.Error(tickNode, "tick", $"{m.String("tick")} is longer than the run ({m.String("duration") ?? "1d"}); a run is at least one tick");
        }
        var initialAmi = m.String("initialAmi") ?? "1.20.0";
        var catalogPath = LoadCatalog(m);
        var pipeline = ParseLaunchPipeline(m);
        var runtime = ParseRuntime(m, tick);

        var accounts = new List<AccountSpec>();
        // With generators, accounts may be empty or absent: the generators make them.
        var accountItems = m.Sequence("accounts", required: !m.Has("generators"));
        if (accountItems is { Count: 0 } && !m.Has("generators"))
        {
            _ctx.Error(m["accounts"]!, "accounts", "a scenario needs at least one account");
        }
        foreach (var (node, path) in accountItems ?? [])
        {
            if (ParseAccount(node, path) is { } account)
            {
                CountAccount(account, node, path);
                accounts.Add(account);
            }
        }

        // Generators expand into ordinary accounts and timeline entries, before the timeline so it can name what they made.
        var timeline = new List<TimelineEntry>();
        ParseGenerators(m, seed, start, untilSettled ? null : duration, accounts, timeline);

        foreach (var (node, path) in m.Sequence("timeline") ?? [])
        {
            CountTimelineEntry(node, path);
            if (ParseTimelineEntry(node, path) is { } entry)
            {
                timeline.Add(entry);
                WarnIfAfterEnd(entry, node, path, untilSettled ? maxDuration ?? Engine.SimulationLimits.DefaultMaxDuration : duration, untilSettled);
            }
        }
        ValidateJobs();
        if (_ctx.Errors.Count == 0 && CheckTaskCount(accounts, timeline) is { } tooMany)
        {
            _ctx.Errors.Add(tooMany);
        }
        if (_ctx.Errors.Count == 0 && CheckInstanceCount(accounts) is { } tooManyInstances)
        {
            _ctx.Errors.Add(tooManyInstances);
        }

        return Result(new Scenario
        {
            Name = name ?? "",
            Seed = seed,
            Start = start,
            Duration = untilSettled ? null : duration,
            UntilSettled = untilSettled,
            MaxDuration = untilSettled ? maxDuration : null,
            Tick = tick,
            InstanceCatalog = catalogPath,
            InitialAmi = initialAmi,
            LaunchPipeline = pipeline,
            Runtime = runtime,
            Accounts = accounts,
            // Stable: entries at the same time keep file order.
            Timeline = timeline.OrderBy(e => e.At).ToArray(),
        });
    }

    private static readonly string[] LaunchPipelineDurations =
    [
        "fargateCapacityAcquisition", "fargateCapacityAcquisitionStddev", "ec2TaskStart", "ec2TaskStartStddev", "eniAttach",
        "publicIpAssignment", "imagePullLatency", "containerStart", "loadBalancerRegistration", "loadBalancerDeregistration",
        "gracefulExit", "eniDetach", "managedScalingInterval",
    ];

    private static readonly string[] LaunchPipelineNumbers =
        ["spotCapacityWarmTasks", "spotCapacityPerSecond", "imagePullMiBPerSecond", "fargateImagePullMiBPerSecond", "managedScalingMinimumStep"];

    /// <summary>Overrides of the launch pipeline's named delays; absent fields keep their defaults.</summary>
    private Engine.LaunchPipeline ParseLaunchPipeline(MapReader m)
    {
        var p = Engine.LaunchPipeline.Default;
        if (m.Map("launchPipeline", [.. LaunchPipelineDurations, .. LaunchPipelineNumbers]) is not { } lm)
        {
            return p;
        }
        TimeSpan D(string key, TimeSpan fallback, bool positive = false) => lm.Duration(key, positive: positive) ?? fallback;
        double N(string key, double fallback, double min) => lm.Double(key, min: min) ?? fallback;
        p = p with
        {
            FargateCapacityAcquisition = D("fargateCapacityAcquisition", p.FargateCapacityAcquisition),
            FargateCapacityAcquisitionStddev = D("fargateCapacityAcquisitionStddev", p.FargateCapacityAcquisitionStddev),
            Ec2TaskStart = D("ec2TaskStart", p.Ec2TaskStart),
            Ec2TaskStartStddev = D("ec2TaskStartStddev", p.Ec2TaskStartStddev),
            EniAttach = D("eniAttach", p.EniAttach),
            PublicIpAssignment = D("publicIpAssignment", p.PublicIpAssignment),
            ImagePullLatency = D("imagePullLatency", p.ImagePullLatency),
            ContainerStart = D("containerStart", p.ContainerStart),
            LoadBalancerRegistration = D("loadBalancerRegistration", p.LoadBalancerRegistration),
            LoadBalancerDeregistration = D("loadBalancerDeregistration", p.LoadBalancerDeregistration),
            GracefulExit = D("gracefulExit", p.GracefulExit),
            EniDetach = D("eniDetach", p.EniDetach),
            ManagedScalingInterval = D("managedScalingInterval", p.ManagedScalingInterval, positive: true),
            SpotCapacityWarmTasks = N("spotCapacityWarmTasks", p.SpotCapacityWarmTasks, 0),
            SpotCapacityPerSecond = N("spotCapacityPerSecond", p.SpotCapacityPerSecond, 0.001),
            ImagePullMiBPerSecond = N("imagePullMiBPerSecond", p.ImagePullMiBPerSecond, 0.001),
            FargateImagePullMiBPerSecond = N("fargateImagePullMiBPerSecond", p.FargateImagePullMiBPerSecond, 0.001),
            ManagedScalingMinimumStep = lm.Int("managedScalingMinimumStep", min: 1, max: 100_000) ?? p.ManagedScalingMinimumStep,
        };
        return p;
    }

    /// <summary>The task runtime's parameters (README "Task runtime"); absent fields keep their defaults.</summary>
    private Runtime.RuntimeSettings ParseRuntime(MapReader m, TimeSpan tick)
    {
        var r = Runtime.RuntimeSettings.Default;
        if (m.Map("runtime", RuntimeFields) is not { } rm)
        {
            return r;
        }
        var interval = rm.Duration("memorySampleInterval", positive: true) ?? TimeSpan.FromMilliseconds(r.MemorySampleIntervalMs);
        if (rm.Has("memorySampleInterval") && tick > TimeSpan.Zero && interval.Ticks % tick.Ticks != 0)
        {
            _ctx.Error(rm["memorySampleInterval"]!, rm.F("memorySampleInterval"),
                $"memorySampleInterval ({Duration.Format(interval)}) must be a whole number of ticks ({Duration.Format(tick)})");
        }
        var backoff = r.Backoff;
        if (rm.Map("backoff", BackoffFields) is { } bm)
        {
            var baseDelay = bm.Duration("base", positive: true) ?? TimeSpan.FromMilliseconds(backoff.BaseMs);
            var max = bm.Duration("max", positive: true) ?? TimeSpan.FromMilliseconds(backoff.MaxMs);
            if (max < baseDelay)
            {
                _ctx.Error(bm["max"] ?? bm.Node, bm.F("max"), $"max ({Duration.Format(max)}) is below base ({Duration.Format(baseDelay)})");
            }
            backoff = backoff with
            {
                BaseMs = (long)baseDelay.TotalMilliseconds,
                MaxMs = (long)max.TotalMilliseconds,
                StableAfterMs = (long)(bm.Duration("stableAfter") ?? TimeSpan.FromMilliseconds(backoff.StableAfterMs)).TotalMilliseconds,
            };
        }
        return r with
        {
            MemorySampleIntervalMs = (long)interval.TotalMilliseconds,
            HostReservedMemoryMiB = rm.Double("hostReservedMemoryMiB", min: 0) ?? r.HostReservedMemoryMiB,
            Backoff = backoff,
        };
    }

    /// <summary>A task reserves the sums of its containers' cpu, memory and GPUs: each must be a size a task can have.</summary>
    internal static void CheckReservationSums(YamlContext ctx, IReadOnlyList<ContainerSpec> containers, YamlNode at, string field)
    {
        foreach (var (what, sum) in new[]
                 {
                     ("cpu units", containers.Sum(c => (long)c.Cpu)),
                     ("MiB of memory", containers.Sum(c => (long)(c.MemoryReservation ?? c.Memory ?? 0))),
                     ("GPUs", containers.Sum(c => (long)c.Gpus)),
                 })
        {
            if (sum > int.MaxValue)
            {
                ctx.Error(at, field, $"the containers reserve {sum:N0} {what} together, more than a task can have ({int.MaxValue:N0})");
            }
        }
    }

    private ScenarioLoadResult Result(Scenario? scenario)
    {
        // The files' own errors first, then those of the files they name (catalog, imports, traces); the first ones only.
        var errors = _ctx.Errors.Sorted().Concat(_catalogErrors.Sorted()).Take(ErrorList.Kept).ToArray();
        var count = _ctx.Errors.Count + _catalogErrors.Count;
        return new ScenarioLoadResult(scenario, errors, _catalog, _warnings.Sorted())
        {
            TraceReplays = count == 0 ? TraceReplays : [], ErrorCount = count, WarningCount = _warnings.Count,
        };
    }

    private string? LoadCatalog(MapReader m)
    {
        if (m["instanceCatalog"] is not { } node || _ctx.NonEmptyString(node, "instanceCatalog") is not { } relative)
        {
            return null;
        }
        string full;
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(_ctx.File)) ?? "";
            full = Path.GetFullPath(Path.Combine(folder, relative));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            _ctx.Error(node, "instanceCatalog", $"'{relative}' is not a usable path: {e.Message}");
            _catalog = null;
            return null;
        }
        if (!File.Exists(full))
        {
            _ctx.Error(node, "instanceCatalog", Directory.Exists(full)
                ? $"instance catalog '{full}' is a directory; name the catalog file"
                : $"instance catalog file '{full}' does not exist");
            _catalog = null;
            return full;
        }
        var loaded = InstanceTypeCatalogLoader.Load(full, Limits.Bytes, _cancellation);
        _catalog = loaded.Catalog;
        if (!loaded.Ok)
        {
            _ctx.Error(node, "instanceCatalog", $"instance catalog '{relative}' has {loaded.Errors.Count} error(s), listed below");
            _catalogErrors.AddRange(loaded.Errors);
            _catalogErrors.CountMore(loaded.ErrorCount - loaded.Errors.Count);
        }
        return full;
    }

    // ---------------------------------------------------------------- accounts and clusters

    private AccountSpec? ParseAccount(YamlNode node, string path)
    {
        var m = MapReader.Open(_ctx, node, path, AccountFields);
        if (m is null)
        {
            return null;
        }
        var id = m.String("id", required: true);
        Dictionary<string, ClusterInfo>? clusters = null;
        if (id is not null)
        {
            if (_accounts.ContainsKey(id))
            {
                _ctx.Error(m["id"]!, m.F("id"), $"account '{id}' is defined twice");
            }
            else
            {
                clusters = new Dictionary<string, ClusterInfo>(StringComparer.Ordinal);
                _accounts[id] = clusters;
            }
        }

        var limits = ParseLimits(m);
        var credentials = ParseCredentials(m);

        var clusterSpecs = new List<ClusterSpec>();
        foreach (var (cn, cp) in m.Sequence("clusters") ?? [])
        {
            if (ParseCluster(cn, cp, id ?? "", clusters) is { } cluster)
            {
                clusterSpecs.Add(cluster);
            }
        }
        return new AccountSpec { Id = id ?? "", Limits = limits, Clusters = clusterSpecs, Credentials = credentials };
    }

    private Dictionary<string, BucketLimit> ParseLimits(MapReader m)
    {
        var limits = new Dictionary<string, BucketLimit>(StringComparer.Ordinal);
        if (m.Map("limits", LimitFields) is { } lm)
        {
            foreach (var bucket in LimitFields)
            {
                if (lm.Map(bucket, BucketFields) is { } bm)
                {
                    var burst = bm.Double("burst", required: true, min: 1);
                    var perSecond = bm.Double("perSecond", required: true, min: 0);
                    if (burst is { } b && perSecond is { } p)
                    {
                        if (p <= 0)
                        {
                            _ctx.Error(bm["perSecond"]!, bm.F("perSecond"), "must be greater than zero");
                        }
                        limits[bucket] = new BucketLimit(b, p);
                    }
                }
            }
        }
        return limits;
    }

    /// <summary>
    /// A cluster's <c>zones</c> (default a, b, c): at least one, at most <see cref="MaxZones"/>, none twice. A cluster
    /// written in the file, one a <c>createCluster</c> action (or a live CreateCluster call) makes and a trace replay's get the same checks.
    /// </summary>
    private IReadOnlyList<string> ParseZones(MapReader m, IReadOnlyList<string>? defaults = null)
    {
        if (m.Sequence("zones") is not { } zoneItems)
        {
            return defaults ?? ["a", "b", "c"];
        }
        if (zoneItems.Count > MaxZones)
        {
            _ctx.Error(m["zones"]!, m.F("zones"), $"{zoneItems.Count:N0} zones are listed; a cluster spans at most {MaxZones}");
            return [];
        }
        if (zoneItems.Count == 0)
        {
            _ctx.Error(m["zones"]!, m.F("zones"), "a cluster needs at least one zone");
        }
        var list = new List<string>();
        foreach (var (zn, zp) in zoneItems)
        {
            if (_ctx.NonEmptyString(zn, zp) is not { } zone)
            {
                continue;
            }
            if (list.Contains(zone))
            {
                _ctx.Error(zn, zp, $"zone '{zone}' is listed twice");
            }
            else
            {
                list.Add(zone);
            }
        }
        return list;
    }

    private ClusterSpec? ParseCluster(YamlNode node, string path, string account, Dictionary<string, ClusterInfo>? registry,
        string? templateName = null)
    {
        var m = MapReader.Open(_ctx, node, path, templateName is null ? ClusterFields : ClusterFields.Where(f => f != "name").ToArray());
        if (m is null)
        {
            return null;
        }
        var name = templateName ?? m.String("name", required: true);

        var zones = ParseZones(m);

        var info = new ClusterInfo(account, name ?? "", zones);
        if (name is not null && registry is not null)
        {
            if (!registry.TryAdd(name, info))
            {
                _ctx.Error(m["name"]!, m.F("name"), $"account '{account}' has two clusters named '{name}'");
            }
        }

        var providers = new List<CapacityProviderSpec>();
        foreach (var (n, p) in m.Sequence("capacityProviders") ?? [])
        {
            if (ParseCapacityProvider(n, p) is not { } entry)
            {
                continue;
            }
            providers.Add(entry.Spec);
            if (!info.CapacityProviders.TryAdd(entry.Spec.Name, entry))
            {
                _ctx.Error(ValueOf(n, "name"), $"{p}.name", $"cluster '{info.Name}' has two capacity providers named '{entry.Spec.Name}'");
            }
        }

        var taskDefinitions = new List<TaskDefinitionSpec>();
        foreach (var (n, p) in m.Sequence("taskDefinitions") ?? [])
        {
            if (ParseTaskDefinition(n, p) is not { } entry)
            {
                continue;
            }
            taskDefinitions.Add(entry.Spec);
            if (!info.TaskDefinitions.TryGetValue(entry.Spec.Family, out var revisions))
            {
                revisions = [];
                info.TaskDefinitions[entry.Spec.Family] = revisions;
            }
            if (!revisions.TryAdd(entry.Spec.Revision, entry))
            {
                _ctx.Error(ValueOf(n, "family"), $"{p}.family", $"task definition '{entry.Label}' is defined twice in cluster '{info.Name}'");
            }
        }

        var services = new List<ServiceSpec>();
        foreach (var (n, p) in m.Sequence("services") ?? [])
        {
            if (ParseService(n, p, info) is not { } entry)
            {
                continue;
            }
            services.Add(entry.Spec);
            if (!info.Services.TryAdd(entry.Spec.Name, entry))
            {
                _ctx.Error(ValueOf(n, "name"), $"{p}.name", $"cluster '{info.Name}' has two services named '{entry.Spec.Name}'");
            }
        }

        return new ClusterSpec
        {
            Name = name ?? "",
            Zones = zones,
            CapacityProviders = providers,
            TaskDefinitions = taskDefinitions,
            Services = services,
            Rebalancing = m.Bool("rebalancing") ?? true,
            JobQueues = ParseJobQueues(m, info),
            Placement = ParsePlacement(m),
        };
    }

    private static YamlNode ValueOf(YamlNode item, string key) =>
        item is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : item;

    // ---------------------------------------------------------------- capacity providers

    private CapacityProviderEntry? ParseCapacityProvider(YamlNode node, string path)
    {
        var before = _ctx.Errors.Count;
        var m = MapReader.Open(_ctx, node, path, CapacityProviderFields);
        if (m is null)
        {
            return null;
        }
        var name = m.String("name", required: true);
        var type = m.Enum("type", CapacityTypes, required: true);
        var beforeRequirements = _ctx.Errors.Count;
        var requirements = m.Map("instanceRequirements", RequirementFields) is { } rm ? ParseRequirements(rm) : null;
        var requirementsOk = _ctx.Errors.Count == beforeRequirements;
        var window = m.Map("maintenanceWindow", WindowFields) is { } wm ? ParseWindow(wm) : null;
        var instanceTypes = new List<string>();
        if (m.Sequence("instanceTypes") is { } typeItems)
        {
            foreach (var (tn, tp) in typeItems)
            {
                if (_ctx.NonEmptyString(tn, tp) is not { } t)
                {
                    continue;
                }
                instanceTypes.Add(t);
                if (_catalog is not null && _catalog.Find(t) is null)
                {
                    _ctx.Error(tn, tp, $"unknown instance type '{t}'{_ctx.DidYouMean(t, _catalog.Types.Select(x => x.Name))}");
                }
            }
        }
        var initial = m.Int("initialInstances", min: 0) ?? 0;
        var max = m.Int("maxInstances", min: 0) ?? 10_000;
        var patchCycle = m.Map("patchCycle", PatchCycleFields) is { } pm ? ParsePatchCycle(pm) : new PatchCycleSpec();
        var maintenanceRate = m.Double("maintenanceEventRate", min: 0, max: 1_000) ?? 0;
        var spotRate = m.Double("spotInterruptionRate", min: 0, max: 1_000) ?? 0;
        var optimization = new InfrastructureOptimizationSpec();
        if (m.Map("infrastructureOptimization", OptimizationFields) is { } om)
        {
            optimization = new InfrastructureOptimizationSpec
            {
                Enabled = om.Bool("enabled") ?? true,
                ScaleInAfter = om.Duration("scaleInAfter") ?? optimization.ScaleInAfter,
                UtilizationThreshold = om.Double("utilizationThreshold", min: 0, max: 100) ?? optimization.UtilizationThreshold,
                MaxConcurrent = om.Int("maxConcurrent", min: 1, max: 10_000) ?? optimization.MaxConcurrent,
            };
        }
        var instances = new List<ExternalInstanceSpec>();
        foreach (var (n, p) in m.Sequence("instances") ?? [])
        {
            if (MapReader.Open(_ctx, n, p, ExternalInstanceFields) is not { } im)
            {
                continue;
            }
            var vcpu = im.Double("vcpu", required: true, min: 0.25, max: 100_000);
            var memory = im.Long("memoryMiB", required: true, min: 1);
            var count = im.Int("count", min: 1) ?? 1;
            var gpus = im.Int("gpus", min: 0) ?? 0;
            if (vcpu is { } v && memory is { } mem)
            {
                instances.Add(new ExternalInstanceSpec(v, mem, count, gpus));
            }
        }
        if (initial > max && m["initialInstances"] is { } initialNode)
        {
            _ctx.Error(initialNode, m.F("initialInstances"), $"initialInstances ({initial}) is above maxInstances ({max})");
        }

        IReadOnlyList<InstanceType>? allowed = null;
        if (type is { } t2)
        {
            var typeName = CapacityTypes.First(kv => kv.Value == t2).Key;
            string[] notApplicable = t2 switch
            {
                CapacityType.Fargate =>
                [
                    "instanceRequirements", "maintenanceWindow", "instanceTypes", "initialInstances", "maxInstances", "instances",
                    "patchCycle", "maintenanceEventRate", "spotInterruptionRate", "infrastructureOptimization",
                ],
                CapacityType.FargateSpot =>
                [
                    "instanceRequirements", "maintenanceWindow", "instanceTypes", "initialInstances", "maxInstances", "instances",
                    "patchCycle", "maintenanceEventRate", "infrastructureOptimization",
                ],
                CapacityType.Ec2 => ["instanceRequirements", "instances", "patchCycle", "infrastructureOptimization"],
                CapacityType.ManagedInstances => ["instanceTypes", "initialInstances", "instances"],
                _ => ["instanceRequirements", "instanceTypes", "initialInstances", "patchCycle", "maintenanceEventRate", "spotInterruptionRate",
                    "infrastructureOptimization"],
            };
            foreach (var key in notApplicable)
            {
                if (m[key] is { } n)
                {
                    var hint = (t2, key) switch
                    {
                        (CapacityType.Ec2, "instanceRequirements") => "; list instanceTypes instead",
                        (CapacityType.ManagedInstances, "instanceTypes") => "; use instanceRequirements.allowedTypes",
                        (_, "patchCycle") => "; only MANAGED_INSTANCES hosts are patched by the scheduler",
                        (_, "infrastructureOptimization") => "; only MANAGED_INSTANCES hosts are consolidated by the scheduler",
                        _ => "",
                    };
                    _ctx.Error(n, m.F(key), $"'{key}' does not apply to a {typeName} capacity provider{hint}");
                }
            }
            switch (t2)
            {
                case CapacityType.Ec2:
                    if (instanceTypes.Count == 0 && m["instanceTypes"] is null)
                    {
                        _ctx.Error(m.Node, m.F("instanceTypes"), "an EC2 capacity provider needs instanceTypes");
                    }
                    else if (instanceTypes.Count == 0)
                    {
                        _ctx.Error(m["instanceTypes"]!, m.F("instanceTypes"), "list at least one instance type");
                    }
                    allowed = _catalog is null ? null : instanceTypes.Select(_catalog.Find).OfType<InstanceType>().ToArray();
                    break;
                case CapacityType.ManagedInstances:
                    if (_catalog is not null && requirementsOk)
                    {
                        allowed = _catalog?.Select(requirements);
                        if (allowed is { Count: 0 })
                        {
                            _ctx.Error(m["instanceRequirements"] ?? m.Node, m.F("instanceRequirements"),
                                "no instance type in the catalog meets these requirements");
                        }
                    }
                    break;
                case CapacityType.External:
                    if (instances.Count == 0 && m["instances"] is null)
                    {
                        _ctx.Error(m.Node, m.F("instances"), "an EXTERNAL capacity provider needs instances");
                    }
                    break;
            }
        }

        if (name is null)
        {
            return null;
        }
        // Registered even when broken (then not Ok), so references to it do not cascade into more errors.
        var spec = new CapacityProviderSpec
        {
            Name = name,
            Type = type ?? CapacityType.Fargate,
            InstanceRequirements = requirements,
            MaintenanceWindow = window,
            InstanceTypes = instanceTypes,
            InitialInstances = initial,
            MaxInstances = max,
            Instances = instances,
            PatchCycle = patchCycle,
            MaintenanceEventRate = maintenanceRate,
            SpotInterruptionRate = spotRate,
            InfrastructureOptimization = optimization,
        };
        return new CapacityProviderEntry(spec, _ctx.Errors.Count == before, allowed);
    }

    private InstanceRequirements ParseRequirements(MapReader m)
    {
        var families = _catalog?.Types.Select(t => t.Family).Distinct().ToArray();
        var typeNames = _catalog?.Types.Select(t => t.Name).ToArray();
        var gpuModels = _catalog?.Types.Select(t => t.GpuModel).OfType<string>().Distinct().ToArray();
        return new InstanceRequirements
        {
            Vcpu = m.Map("vcpu", RangeFields) is { } v ? DoubleRange(v) : null,
            MemoryMiB = m.Map("memoryMiB", RangeFields) is { } mem ? LongRange(mem) : null,
            MemoryMiBPerVcpu = m.Map("memoryMiBPerVcpu", RangeFields) is { } per ? DoubleRange(per) : null,
            Families = Names(m, "families", families, "instance family"),
            ExcludedFamilies = Names(m, "excludedFamilies", families, "instance family"),
            AllowedTypes = Names(m, "allowedTypes", typeNames, "instance type"),
            ExcludedTypes = Names(m, "excludedTypes", typeNames, "instance type"),
            Gpus = m.Map("gpus", RangeFields) is { } g ? IntRange(g) : null,
            GpuModels = Names(m, "gpuModels", gpuModels, "GPU model"),
            BareMetal = m.Enum("bareMetal", BareMetalValues) ?? BareMetal.Excluded,
        };
    }

    /// <summary>A list of names that must each be in <paramref name="known"/> (when the catalog is available).</summary>
    private List<string> Names(MapReader m, string key, IReadOnlyCollection<string>? known, string what)
    {
        var result = new List<string>();
        foreach (var (n, p) in m.Sequence(key) ?? [])
        {
            if (_ctx.NonEmptyString(n, p) is not { } s)
            {
                continue;
            }
            result.Add(s);
            if (known is not null && !known.Contains(s, StringComparer.OrdinalIgnoreCase))
            {
                _ctx.Error(n, p, $"no {what} '{s}' in the instance catalog{_ctx.DidYouMean(s, known)}");
            }
        }
        return result;
    }

    private Range<double> DoubleRange(MapReader m)
    {
        var min = m.Double("min", min: 0);
        var max = m.Double("max", min: 0);
        CheckOrder(m, min, max);
        return new Range<double>(min, max);
    }

    private Range<long> LongRange(MapReader m)
    {
        var min = m.Long("min", min: 0);
        var max = m.Long("max", min: 0);
        CheckOrder(m, min, max);
        return new Range<long>(min, max);
    }

    private Range<int> IntRange(MapReader m)
    {
        var min = m.Int("min", min: 0);
        var max = m.Int("max", min: 0);
        CheckOrder(m, min, max);
        return new Range<int>(min, max);
    }

    private void CheckOrder<T>(MapReader m, T? min, T? max) where T : struct, IComparable<T>
    {
        if (min is { } a && max is { } b && a.CompareTo(b) > 0)
        {
            _ctx.Error(m["min"]!, m.F("min"), $"min ({a}) is above max ({b})");
        }
    }

    private MaintenanceWindow? ParseWindow(MapReader m)
    {
        var day = m.Enum("day", Days, required: true);
        TimeSpan? start = null;
        if (m.Get("start", required: true) is { } sn && _ctx.String(sn, m.F("start")) is { } s)
        {
            var match = ClockTime().Match(s);
            if (match.Success && int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) is var h && h < 24
                && int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) is var min && min < 60)
            {
                start = new TimeSpan(h, min, 0);
            }
            else
            {
                _ctx.Error(sn, m.F("start"), $"'{s}' is not a time of day (expected HH:MM, e.g. \"02:00\")");
            }
        }
        var length = m.Duration("length", required: true, positive: true);
        if (length > TimeSpan.FromDays(7))
        {
            _ctx.Error(m["length"]!, m.F("length"), "a weekly maintenance window lasts at most 7d");
        }
        return day is { } d && start is { } st && length is { } l ? new MaintenanceWindow(d, st, l) : null;
    }

    private PatchCycleSpec ParsePatchCycle(MapReader m)
    {
        var defaults = new PatchCycleSpec();
        var inWindow = m.Duration("replaceInWindowAfter", positive: true) ?? defaults.ReplaceInWindowAfter;
        var anyTime = m.Duration("replaceAnyTimeAfter", positive: true) ?? defaults.ReplaceAnyTimeAfter;
        var lifetime = m.Duration("maxLifetime", positive: true) ?? defaults.MaxLifetime;
        var concurrent = m.Int("maxConcurrentReplacements", min: 0) ?? 0;
        // The ages must come in order: in the window, then anywhere, then the hard limit.
        if (inWindow > anyTime)
        {
            _ctx.Error(m["replaceInWindowAfter"] ?? m["replaceAnyTimeAfter"]!, m.F(m.Has("replaceInWindowAfter") ? "replaceInWindowAfter" : "replaceAnyTimeAfter"),
                $"replaceInWindowAfter ({Duration.Format(inWindow)}) is after replaceAnyTimeAfter ({Duration.Format(anyTime)})");
        }
        if (anyTime > lifetime)
        {
            _ctx.Error(m["replaceAnyTimeAfter"] ?? m["maxLifetime"]!, m.F(m.Has("replaceAnyTimeAfter") ? "replaceAnyTimeAfter" : "maxLifetime"),
                $"replaceAnyTimeAfter ({Duration.Format(anyTime)}) is after maxLifetime ({Duration.Format(lifetime)})");
        }
        return new PatchCycleSpec
        {
            ReplaceInWindowAfter = inWindow, ReplaceAnyTimeAfter = anyTime, MaxLifetime = lifetime, MaxConcurrentReplacements = concurrent,
        };
    }

    [GeneratedRegex(@"^(\d{1,2}):(\d{2})$")]
    private static partial Regex ClockTime();

    // ---------------------------------------------------------------- task definitions

    [GeneratedRegex("^[A-Za-z0-9_-]{1,255}$")]
    private static partial Regex FamilyName();

    private TaskDefinitionEntry? ParseTaskDefinition(YamlNode node, string path)
    {
        if (node is YamlMappingNode map && map.Children.ContainsKey(new YamlScalarNode("import")))
        {
            return ParseImportedTaskDefinition(node, path);
        }
        var before = _ctx.Errors.Count;
        var m = MapReader.Open(_ctx, node, path, TaskDefinitionFields);
        if (m is null)
        {
            return null;
        }
        var family = m.String("family", required: true);
        if (family is not null && !FamilyName().IsMatch(family))
        {
            _ctx.Error(m["family"]!, m.F("family"), $"'{family}' is not a family name (letters, digits, '-' and '_', up to 255)");
        }
        var revision = m.Int("revision", min: 1) ?? 1;
        var cpu = m.Int("cpu", min: 1);
        var memory = m.Int("memory", min: 1);
        var networkMode = m.Enum("networkMode", NetworkModes) ?? NetworkMode.Awsvpc;
        var stopTimeout = m.Duration("stopTimeout") ?? TimeSpan.FromSeconds(30);
        if (stopTimeout > TimeSpan.FromSeconds(120))
        {
            _ctx.Error(m["stopTimeout"]!, m.F("stopTimeout"), "stopTimeout is at most 120s");
        }
        var runTime = m["runTime"] is { } rn ? ParseRunTime(rn, m.F("runTime")) : null;
        var oomScoreAdj = m.Int("oomScoreAdj", min: -1000, max: 1000) ?? 0;

        var constraints = new List<PlacementConstraintSpec>();
        foreach (var (n, p) in m.Sequence("placementConstraints", max: MaxPlacementConstraints) ?? [])
        {
            if (MapReader.Open(_ctx, n, p, ConstraintFields) is not { } cm)
            {
                continue;
            }
            var type = cm.Enum("type", ConstraintTypes, required: true);
            var expression = cm.String("expression");
            if (type == PlacementConstraintType.MemberOf && expression is null && !cm.Has("expression"))
            {
                _ctx.Error(cm.Node, cm.F("expression"), "a memberOf constraint needs an expression");
            }
            if (type == PlacementConstraintType.DistinctInstance && expression is not null)
            {
                _ctx.Error(cm["expression"]!, cm.F("expression"), "a distinctInstance constraint takes no expression");
            }
            if (type == PlacementConstraintType.MemberOf && expression is not null
                && Placement.MemberOfExpression.TryParse(expression, out var why) is null)
            {
                _ctx.Error(cm["expression"]!, cm.F("expression"), why!);
            }
            if (type is { } t)
            {
                constraints.Add(new PlacementConstraintSpec(t, expression));
            }
        }

        var containers = new List<ContainerSpec>();
        var containerNodes = new List<MapReader>();
        var containerItems = m.Sequence("containers", required: true, max: MaxContainers);
        if (containerItems is { Count: 0 })
        {
            _ctx.Error(m["containers"]!, m.F("containers"), "a task definition needs at least one container");
        }
        foreach (var (n, p) in containerItems ?? [])
        {
            if (MapReader.Open(_ctx, n, p, ContainerFields) is not { } cm)
            {
                continue;
            }
            var container = ParseContainer(cm, networkMode, memory);
            if (container is null)
            {
                continue;
            }
            if (containers.Any(c => c.Name == container.Name))
            {
                _ctx.Error(cm["name"]!, cm.F("name"), $"two containers are named '{container.Name}'");
            }
            containers.Add(container);
            containerNodes.Add(cm);
        }

        if (containers.Count > 0 && containerItems is not null && containers.Count == containerItems.Count)
        {
            if (!containers.Any(c => c.Essential))
            {
                _ctx.Error(m["containers"]!, m.F("containers"), "at least one container must be essential");
            }
            CheckReservationSums(_ctx, containers, m["containers"]!, m.F("containers"));
            var cpuSum = containers.Sum(c => (long)c.Cpu);
            if (cpu is { } tc && cpuSum > tc)
            {
                _ctx.Error(m["cpu"]!, m.F("cpu"), $"the containers' cpu adds up to {cpuSum}, above the task's {tc}");
            }
            if (memory is { } tm)
            {
                var reserved = containers.Sum(c => (long)(c.MemoryReservation ?? c.Memory ?? 0));
                if (reserved > tm)
                {
                    _ctx.Error(m["memory"]!, m.F("memory"), $"the containers reserve {reserved} MiB, above the task's {tm} MiB");
                }
            }
            var ports = new HashSet<int>();
            for (var i = 0; i < containers.Count; i++)
            {
                foreach (var pm in containers[i].PortMappings)
                {
                    var hostPort = networkMode == NetworkMode.Bridge ? pm.HostPort : pm.ContainerPort;
                    if (hostPort is > 0 and var hp && !ports.Add(hp))
                    {
                        _ctx.Error(containerNodes[i]["portMappings"]!, containerNodes[i].F("portMappings"),
                            $"port {hp} is mapped twice in this task definition");
                    }
                }
            }
        }

        if (family is null)
        {
            return null;
        }
        var spec = new TaskDefinitionSpec
        {
            Family = family,
            Revision = revision,
            Cpu = cpu,
            Memory = memory,
            NetworkMode = networkMode,
            StopTimeout = stopTimeout,
            RunTime = runTime,
            Containers = containers,
            PlacementConstraints = constraints,
            OomScoreAdj = oomScoreAdj,
        };
        return new TaskDefinitionEntry(spec, _ctx.Errors.Count == before);
    }

    private ContainerSpec? ParseContainer(MapReader m, NetworkMode networkMode, int? taskMemory)
    {
        var name = m.String("name", required: true);
        var image = m.String("image", required: true);
        var imageSize = m.Int("imageSizeMiB", min: 0) ?? 100;
        var cpu = m.Int("cpu", min: 0) ?? 0;
        var reservation = m.Int("memoryReservation", min: 1);
        var memory = m.Int("memory", min: 1);
        var gpus = m.Int("gpus", min: 0) ?? 0;
        var essential = m.Bool("essential") ?? true;
        var exitTime = m.Duration("exitTime");
        if (reservation is { } r && memory is { } hard && r > hard)
        {
            _ctx.Error(m["memoryReservation"]!, m.F("memoryReservation"),
                $"memoryReservation ({r} MiB) is above the hard limit memory ({hard} MiB)");
        }
        if (memory is { } cm && taskMemory is { } tm && cm > tm)
        {
            _ctx.Error(m["memory"]!, m.F("memory"), $"the container's memory limit ({cm} MiB) is above the task's memory ({tm} MiB)");
        }
        if (taskMemory is null && !m.Has("memory") && !m.Has("memoryReservation"))
        {
            _ctx.Error(m.Node, m.F("memory"), "give memory or memoryReservation (or task-level memory)");
        }

        var usage = m.Map("usage", UsageFields) is { } um ? ParseUsage(um) : null;
        FailureSpec? failures = null;
        if (m.Map("failures", FailureFields) is { } fm)
        {
            failures = new FailureSpec(
                fm.Double("startFailure", min: 0, max: 1) ?? 0,
                fm.Double("crashesPerDay", min: 0, max: 1_000_000) ?? 0,
                fm.Double("healthCheckFailure", min: 0, max: 1) ?? 0);
            if (failures.HealthCheckFailure > 0 && !m.Has("healthCheck"))
            {
                _ctx.Error(fm["healthCheckFailure"]!, fm.F("healthCheckFailure"), "healthCheckFailure needs a healthCheck on this container");
            }
        }

        HealthCheckSpec? healthCheck = null;
        if (m.Map("healthCheck", HealthCheckFields) is { } hm)
        {
            healthCheck = new HealthCheckSpec(
                hm.Duration("startPeriod") ?? TimeSpan.Zero,
                hm.Duration("interval", positive: true) ?? TimeSpan.FromSeconds(30),
                hm.Int("healthyThreshold", min: 1, max: 100) ?? 1);
        }

        var ports = new List<PortMapping>();
        foreach (var (n, p) in m.Sequence("portMappings") ?? [])
        {
            if (MapReader.Open(_ctx, n, p, PortMappingFields) is not { } pm)
            {
                continue;
            }
            var containerPort = pm.Int("containerPort", required: true, min: 1, max: 65535);
            var hostPort = pm.Int("hostPort", min: 0, max: 65535);
            if (networkMode != NetworkMode.Bridge && containerPort is { } c && hostPort is { } h && h != c)
            {
                _ctx.Error(pm["hostPort"]!, pm.F("hostPort"),
                    $"with networkMode {networkMode.ToString().ToLowerInvariant()}, hostPort must equal containerPort ({c})");
            }
            if (containerPort is { } cp)
            {
                ports.Add(new PortMapping(cp, hostPort));
            }
        }

        if (name is null || image is null)
        {
            return null;
        }
        return new ContainerSpec
        {
            Name = name,
            Image = image,
            ImageSizeMiB = imageSize,
            Cpu = cpu,
            MemoryReservation = reservation,
            Memory = memory,
            Gpus = gpus,
            Essential = essential,
            Usage = usage,
            Failures = failures,
            HealthCheck = healthCheck,
            PortMappings = ports,
            ExitTime = exitTime,
        };
    }

    /// <summary>
    /// A container's usage model: <c>memoryMiB</c> (a number = constant, or {mean, stddev}), <c>leakMiBPerHour</c>,
    /// <c>spikes</c> {every, length, extraMiB}, <c>heap</c> {percent, minMiB, maxMiB, fallbackMiB, overheadMiB}
    /// (a managed runtime whose heap demand is memoryMiB), <c>cpu</c> {units, startupUnits, startup}.
    /// </summary>
    private MemoryUsageSpec? ParseUsage(MapReader um)
    {
        double? mean = null;
        double stddev = 0;
        if (um["memoryMiB"] is YamlScalarNode constant)
        {
            mean = _ctx.Double(constant, um.F("memoryMiB"), 0, 16_777_216);
        }
        else if (um.Map("memoryMiB", MeanStddevFields, required: true) is { } mm)
        {
            mean = mm.Double("mean", required: true, min: 0);
            stddev = mm.Double("stddev", min: 0) ?? 0;
        }
        var leak = um.Double("leakMiBPerHour", min: 0) ?? 0;
        SpikeSpec? spikes = null;
        if (um.Map("spikes", SpikeFields) is { } sm)
        {
            var every = sm.Duration("every", required: true, positive: true);
            var length = sm.Duration("length", required: true, positive: true);
            var extra = sm.Double("extraMiB", required: true, min: 0);
            if (every is { } e && length is { } l && l >= e)
            {
                _ctx.Error(sm["length"]!, sm.F("length"), $"a spike's length ({Duration.Format(l)}) must be shorter than every ({Duration.Format(e)})");
            }
            else if (every is { } e2 && length is { } l2 && extra is { } x)
            {
                spikes = new SpikeSpec(e2, l2, x);
            }
        }
        Runtime.HeapSizing? heap = null;
        if (um.Map("heap", HeapFields) is { } hm)
        {
            var d = new Runtime.HeapSizing();
            heap = new Runtime.HeapSizing
            {
                Percent = hm.Double("percent", min: 1, max: 100) ?? d.Percent,
                MinMiB = hm.Double("minMiB", min: 0) ?? d.MinMiB,
                MaxMiB = hm.Double("maxMiB", min: 1) ?? d.MaxMiB,
                FallbackMiB = hm.Double("fallbackMiB", min: 1) ?? d.FallbackMiB,
                OverheadMiB = hm.Double("overheadMiB", min: 0) ?? d.OverheadMiB,
            };
            if (heap.MinMiB > heap.MaxMiB)
            {
                _ctx.Error(hm["minMiB"] ?? hm.Node, hm.F("minMiB"), $"minMiB ({heap.MinMiB}) is above maxMiB ({heap.MaxMiB})");
            }
        }
        CpuUsageSpec? cpu = null;
        if (um.Map("cpu", CpuUsageFields) is { } cm)
        {
            var units = cm.Double("units", min: 0) ?? 0;
            var startupUnits = cm.Double("startupUnits", min: 0) ?? 0;
            var startup = cm.Duration("startup") ?? TimeSpan.Zero;
            if (startup > TimeSpan.Zero && !cm.Has("startupUnits"))
            {
                _ctx.Error(cm["startup"]!, cm.F("startupUnits"), "a start-up burst needs startupUnits");
            }
            cpu = new CpuUsageSpec(units, startupUnits, startup);
        }
        return mean is { } mu ? new MemoryUsageSpec(mu, stddev) { LeakMiBPerHour = leak, Spikes = spikes, Heap = heap, Cpu = cpu } : null;
    }

    /// <summary>A duration (fixed) or {mean, stddev, min}.</summary>
    private DurationDistribution? ParseRunTime(YamlNode node, string path)
    {
        if (node is YamlScalarNode)
        {
            return _ctx.Duration(node, path, positive: true) is { } d ? new DurationDistribution(d, TimeSpan.Zero, TimeSpan.Zero) : null;
        }
        if (MapReader.Open(_ctx, node, path, RunTimeFields) is not { } m)
        {
            return null;
        }
        var mean = m.Duration("mean", required: true, positive: true);
        var stddev = m.Duration("stddev") ?? TimeSpan.Zero;
        var min = m.Duration("min") ?? TimeSpan.Zero;
        if (mean is { } mu && min > mu)
        {
            _ctx.Error(m["min"]!, m.F("min"), $"min ({Duration.Format(min)}) is above mean ({Duration.Format(mu)})");
        }
        return mean is { } x ? new DurationDistribution(x, stddev, min) : null;
    }

    // ---------------------------------------------------------------- services

    private ServiceEntry? ParseService(YamlNode node, string path, ClusterInfo cluster)
    {
        var m = MapReader.Open(_ctx, node, path, ServiceFields);
        if (m is null)
        {
            return null;
        }
        var name = m.String("name", required: true);
        var tdRef = m.String("taskDefinition", required: true);
        var td = tdRef is null ? null : ResolveTaskDefinition(cluster, m["taskDefinition"]!, m.F("taskDefinition"), tdRef);
        var desired = WithinTaskLimit(m, m.Int("desiredCount", required: true, min: 0));

        var (strategy, providers) = ParseStrategyWithNodes(m, cluster);

        if (td is not null)
        {
            var reported = new HashSet<string>();
            foreach (var (entry, n, f) in providers)
            {
                CheckFits(td, entry, n, f, reported);
            }
        }

        var deployment = new DeploymentConfiguration();
        if (m.Map("deployment", DeploymentFields) is { } dm)
        {
            var cb = dm.Map("circuitBreaker", CircuitBreakerFields);
            deployment = new DeploymentConfiguration
            {
                MinimumHealthyPercent = dm.Int("minimumHealthyPercent", min: 0, max: 100) ?? 100,
                MaximumPercent = dm.Int("maximumPercent", min: 100, max: 1000) ?? 200,
                CircuitBreakerEnabled = cb?.Bool("enable") ?? false,
                CircuitBreakerRollback = cb?.Bool("rollback") ?? false,
            };
        }

        var assignPublicIp = m["assignPublicIp"] is YamlScalarNode { Value: { } ip }
            && (ip.Equals("ENABLED", StringComparison.OrdinalIgnoreCase) || ip.Equals("DISABLED", StringComparison.OrdinalIgnoreCase))
            ? ip.Equals("ENABLED", StringComparison.OrdinalIgnoreCase)
            : m.Bool("assignPublicIp") ?? true;

        if (name is null)
        {
            return null;
        }
        // Registered even when broken, so references to it do not cascade into more errors.
        var spec = new ServiceSpec
        {
            Name = name,
            TaskDefinition = tdRef ?? "",
            DesiredCount = desired ?? 0,
            CapacityProviderStrategy = strategy,
            LoadBalancer = m.Bool("loadBalancer") ?? false,
            AssignPublicIp = assignPublicIp,
            Deployment = deployment,
            ProtectedFromScaleIn = m.Bool("protectedFromScaleIn") ?? false,
        };
        return new ServiceEntry(spec, providers.Select(p => p.Entry).ToArray());
    }

    private static bool IsFargate(CapacityType type) => type is CapacityType.Fargate or CapacityType.FargateSpot;

    /// <summary>With no capacity provider named, a cluster's only capacity provider is used.</summary>
    private CapacityProviderEntry? DefaultCapacityProvider(ClusterInfo cluster, YamlNode at, string field)
    {
        if (cluster.CapacityProviders.Count == 1)
        {
            return cluster.CapacityProviders.Values.Single();
        }
        _ctx.Error(at, field, cluster.CapacityProviders.Count == 0
            ? $"cluster '{cluster.Name}' has no capacity providers"
            : $"missing required field 'capacityProvider' (cluster '{cluster.Name}' has several: {string.Join(", ", cluster.CapacityProviders.Keys)})");
        return null;
    }

    private TaskDefinitionEntry? ResolveTaskDefinition(ClusterInfo cluster, YamlNode node, string field, string reference)
    {
        var parts = reference.Split(':');
        int? revision = null;
        if (parts.Length > 2 || parts[0].Length == 0)
        {
            _ctx.Error(node, field, $"'{reference}' is not a task definition reference (family or family:revision)");
            return null;
        }
        if (parts.Length == 2)
        {
            if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var r) || r < 1)
            {
                _ctx.Error(node, field, $"'{reference}' is not a task definition reference (family or family:revision)");
                return null;
            }
            revision = r;
        }
        if (!cluster.TaskDefinitions.TryGetValue(parts[0], out var revisions))
        {
            _ctx.Error(node, field,
                $"unknown task definition '{parts[0]}' in cluster '{cluster.Name}'{_ctx.DidYouMean(parts[0], cluster.TaskDefinitions.Keys)}");
            return null;
        }
        if (revision is { } rev)
        {
            if (revisions.TryGetValue(rev, out var exact))
            {
                return exact;
            }
            _ctx.Error(node, field, $"task definition '{parts[0]}' has no revision {rev} (it has {string.Join(", ", revisions.Keys)})");
            return null;
        }
        return revisions.Values.Last();
    }

    private CapacityProviderEntry? ResolveCapacityProvider(ClusterInfo cluster, YamlNode node, string field, string name)
    {
        if (cluster.CapacityProviders.TryGetValue(name, out var entry))
        {
            return entry;
        }
        _ctx.Error(node, field, $"unknown capacity provider '{name}' in cluster '{cluster.Name}'"
            + _ctx.DidYouMean(name, cluster.CapacityProviders.Keys));
        return null;
    }

    /// <summary>Whether tasks of <paramref name="td"/> can ever run on <paramref name="cp"/>; errors go to <paramref name="at"/>,
    /// once per message in <paramref name="reported"/>.</summary>
    private void CheckFits(TaskDefinitionEntry td, CapacityProviderEntry cp, YamlNode at, string field, HashSet<string> reported)
    {
        if (!td.Ok || !cp.Ok)
        {
            return;
        }
        var spec = td.Spec;
        var problems = new List<string>();
        switch (cp.Spec.Type)
        {
            case CapacityType.Fargate or CapacityType.FargateSpot:
                if (spec.Cpu is not { } cpu || spec.Memory is not { } memory)
                {
                    problems.Add($"task definition '{td.Label}' runs on Fargate, which needs task-level cpu and memory");
                }
                else if (!FargateSizes.IsValid(cpu, memory))
                {
                    problems.Add($"task definition '{td.Label}' (cpu {cpu}, memory {memory}) is not a Fargate task size: {FargateSizes.Describe(cpu)}");
                }
                if (spec.NetworkMode != NetworkMode.Awsvpc)
                {
                    problems.Add($"task definition '{td.Label}' runs on Fargate, which needs networkMode awsvpc");
                }
                if (spec.ReservedGpus > 0)
                {
                    problems.Add($"task definition '{td.Label}' asks for GPUs, which Fargate does not offer");
                }
                break;
            case CapacityType.Ec2 or CapacityType.ManagedInstances:
                if (cp.AllowedTypes is { Count: > 0 } types
                    && !types.Any(t => t.CpuUnits >= spec.ReservedCpu && t.MemoryMiB >= spec.ReservedMemoryMiB && t.Gpus >= spec.ReservedGpus))
                {
                    problems.Add($"task definition '{td.Label}' needs {Size(spec)}, more than any instance type capacity provider "
                        + $"'{cp.Spec.Name}' may launch (they offer at most {types.Max(t => t.CpuUnits)} cpu units, "
                        + $"{types.Max(t => t.MemoryMiB)} MiB, {types.Max(t => t.Gpus)} GPUs)");
                }
                break;
            case CapacityType.External:
                if (cp.Spec.Instances.Count > 0 && !cp.Spec.Instances.Any(i =>
                        i.Vcpu * 1024 >= spec.ReservedCpu && i.MemoryMiB >= spec.ReservedMemoryMiB && i.Gpus >= spec.ReservedGpus))
                {
                    problems.Add($"task definition '{td.Label}' needs {Size(spec)}, more than any instance of capacity provider '{cp.Spec.Name}'");
                }
                break;
        }
        foreach (var problem in problems)
        {
            if (reported.Add(problem))
            {
                _ctx.Error(at, field, problem);
            }
        }
    }

    private static string Size(TaskDefinitionSpec spec) =>
        $"{spec.ReservedCpu} cpu units, {spec.ReservedMemoryMiB} MiB and {spec.ReservedGpus} GPUs";

    // ---------------------------------------------------------------- timeline

    private TimelineEntry? ParseTimelineEntry(YamlNode node, string path)
    {
        var m = MapReader.Open(_ctx, node, path, TimelineFields);
        if (m is null)
        {
            return null;
        }
        var at = m.Duration("at", required: true);
        var present = ActionNames.Where(a => m.Contains(a)).ToArray();
        if (present.Length == 0)
        {
            _ctx.Error(m.Node, path, $"a timeline entry needs one action: {string.Join(", ", ActionNames)}");
            return null;
        }
        foreach (var extra in present.Skip(1))
        {
            _ctx.Error(m.KeyNode(extra)!, m.F(extra), $"a timeline entry holds one action; '{present[0]}' is already given");
        }
        var actionName = present[0];
        var creates = actionName is "createCluster" or "registerTaskDefinition" or "createService" or "createJobQueue";
        if (creates)
        {
            EnsureEntityRoom(m.KeyNode(actionName), m.F(actionName));
        }
        var action = actionName switch
        {
            "runTask" => m.Map(actionName, RunTaskFields, required: true) is { } a ? ParseRunTask(a) : null,
            "updateService" => m.Map(actionName, UpdateServiceFields, required: true) is { } a ? ParseUpdateService(a) : null,
            "failZone" => m.Map(actionName, FailZoneFields, required: true) is { } a ? ParseFailZone(a) : null,
            "drainInstance" => m.Map(actionName, DrainInstanceFields, required: true) is { } a ? ParseDrainInstance(a, "manual") : (TimelineAction?)null,
            "maintenanceEvent" => m.Map(actionName, DrainInstanceFields, required: true) is { } a ? ParseDrainInstance(a, "maintenance-event") : null,
            "interruptSpot" => m.Map(actionName, DrainInstanceFields, required: true) is { } a ? ParseDrainInstance(a, "spot-interruption") : null,
            "disconnectAgent" => m.Map(actionName, DrainInstanceFields, required: true) is { } a ? ParseDrainInstance(a, "agent-disconnect") : null,
            "updateTaskProtection" => m.Map(actionName, TaskProtectionFields, required: true) is { } a ? ParseTaskProtection(a) : null,
            "createCluster" => m.Map(actionName, CreateClusterFields, required: true) is { } a ? ParseCreateCluster(a) : null,
            "registerTaskDefinition" => m.Map(actionName, RegisterTaskDefinitionFields, required: true) is { } a ? ParseRegisterTaskDefinition(a) : null,
            "createService" => m.Map(actionName, CreateServiceFields, required: true) is { } a ? ParseCreateService(a) : null,
            "stopTask" => m.Map(actionName, StopTaskFields, required: true) is { } a ? ParseStopTask(a) : null,
            "submitJob" => m.Map(actionName, SubmitJobFields, required: true) is { } a ? ParseSubmitJob(a, at, node) : null,
            "createJobQueue" => m.Map(actionName, CreateJobQueueFields, required: true) is { } a ? ParseCreateJobQueue(a, at) : null,
            "cancelJob" => m.Map(actionName, CancelJobFields, required: true) is { } a ? ParseCancelJob(a, at) : null,
            _ => m.Map(actionName, ReleaseAmiFields, required: true) is { } a && a.String("version", required: true) is { } v
                ? new ReleaseAmiAction(v) : null,
        };
        if (creates && action is not null)
        {
            CountEntities(1, m.KeyNode(actionName), m.F(actionName));
        }
        return at is { } t && action is not null ? new TimelineEntry(t, action, (int)node.Start.Line) : null;
    }

    /// <summary>Resolves an action's account and cluster; the account must own the cluster.</summary>
    private ClusterInfo? ResolveCluster(MapReader m)
    {
        var account = m.String("account", required: true);
        var cluster = m.String("cluster", required: true);
        if (account is null)
        {
            return null;
        }
        if (!_accounts.TryGetValue(account, out var clusters))
        {
            _ctx.Error(m["account"]!, m.F("account"), $"unknown account '{account}'{_ctx.DidYouMean(account, _accounts.Keys)}");
            return null;
        }
        if (cluster is null)
        {
            return null;
        }
        if (clusters.TryGetValue(cluster, out var info))
        {
            return info;
        }
        // Naming the owners helps among a few accounts; among a generated fleet the search would cost more than the file.
        var owners = _accounts.Count > 1_000 ? [] : _accounts.Where(a => a.Value.ContainsKey(cluster)).Select(a => a.Key).ToArray();
        _ctx.Error(m["cluster"]!, m.F("cluster"), owners.Length > 0
            ? $"cluster '{cluster}' belongs to account {string.Join(", ", owners.Select(o => $"'{o}'"))}, not '{account}'; an action may only reach its own account's clusters"
            : $"account '{account}' has no cluster '{cluster}'{_ctx.DidYouMean(cluster, clusters.Keys)}");
        return null;
    }

    private RunTaskAction? ParseRunTask(MapReader m)
    {
        var cluster = ResolveCluster(m);
        var tdRef = m.String("taskDefinition", required: true);
        var count = m.Int("count", min: 1, max: 10) ?? 1;
        var cpName = m.Contains("capacityProvider") ? m.String("capacityProvider", required: true) : null;
        var runTime = m["runTime"] is { } rn ? ParseRunTime(rn, m.F("runTime")) : null;
        if (cluster is not null)
        {
            var td = tdRef is null ? null : ResolveTaskDefinition(cluster, m["taskDefinition"]!, m.F("taskDefinition"), tdRef);
            var cp = cpName is not null
                ? ResolveCapacityProvider(cluster, m["capacityProvider"]!, m.F("capacityProvider"), cpName)
                : m.Contains("capacityProvider") ? null : DefaultCapacityProvider(cluster, m.Node, m.F("capacityProvider"));
            cpName ??= cp?.Spec.Name;
            if (td is not null && cp is not null)
            {
                CheckFits(td, cp, m["capacityProvider"] ?? m.Node, m.F("capacityProvider"), []);
            }
        }
        var startedBy = m.String("startedBy");
        var taskIds = ParseTaskIds(m, count);
        if (cluster is null || tdRef is null || cpName is null)
        {
            return null;
        }
        return new RunTaskAction(cluster.Account, cluster.Name, tdRef, count, cpName, runTime, startedBy, taskIds);
    }

    private UpdateServiceAction? ParseUpdateService(MapReader m)
    {
        var cluster = ResolveCluster(m);
        var serviceName = m.String("service", required: true);
        var desired = WithinTaskLimit(m, m.Int("desiredCount", min: 0));
        var tdRef = m.String("taskDefinition");
        var force = m.Bool("forceNewDeployment") ?? false;
        if (!m.Has("desiredCount") && !m.Has("taskDefinition") && !m.Has("forceNewDeployment"))
        {
            _ctx.Error(m.Node, m.Path, "updateService changes nothing: give desiredCount, taskDefinition or forceNewDeployment");
        }
        if (cluster is null || serviceName is null)
        {
            return null;
        }
        if (!cluster.Services.TryGetValue(serviceName, out var service))
        {
            _ctx.Error(m["service"]!, m.F("service"),
                $"unknown service '{serviceName}' in cluster '{cluster.Name}'{_ctx.DidYouMean(serviceName, cluster.Services.Keys)}");
        }
        if (tdRef is not null && ResolveTaskDefinition(cluster, m["taskDefinition"]!, m.F("taskDefinition"), tdRef) is { } td && service is not null)
        {
            var reported = new HashSet<string>();
            foreach (var cp in service.CapacityProviders)
            {
                CheckFits(td, cp, m["taskDefinition"]!, m.F("taskDefinition"), reported);
            }
        }
        if (desired is { } d && !LiveServiceFits(cluster.Account, cluster.Name, serviceName, d, m))
        {
            return null;
        }
        return new UpdateServiceAction(cluster.Account, cluster.Name, serviceName, desired, tdRef, force);
    }

    private FailZoneAction? ParseFailZone(MapReader m)
    {
        var cluster = ResolveCluster(m);
        var zone = m.String("zone", required: true);
        var length = m.Duration("for", required: true, positive: true);
        if (cluster is not null && zone is not null && !cluster.Zones.Contains(zone))
        {
            _ctx.Error(m["zone"]!, m.F("zone"),
                $"cluster '{cluster.Name}' has no zone '{zone}' (its zones: {string.Join(", ", cluster.Zones)})");
        }
        return cluster is not null && zone is not null && length is { } l ? new FailZoneAction(cluster.Account, cluster.Name, zone, l) : null;
    }

    private UpdateTaskProtectionAction? ParseTaskProtection(MapReader m)
    {
        var cluster = ResolveCluster(m);
        var serviceName = m.String("service", required: true);
        var enabled = m.Bool("protectionEnabled", required: true);
        var expires = m.Duration("expiresIn", positive: true);
        if (expires is { } e && e > UpdateTaskProtectionAction.MaxExpiresIn)
        {
            _ctx.Error(m["expiresIn"]!, m.F("expiresIn"), $"expiresIn ({Duration.Format(e)}) is above the ECS maximum of 48h");
        }
        if (expires is not null && enabled == false)
        {
            _ctx.Error(m["expiresIn"]!, m.F("expiresIn"), "expiresIn applies only when protectionEnabled is true");
        }
        List<string>? tasks = null;
        if (m["tasks"] is YamlScalarNode { Value: "all" })
        {
            tasks = null;
        }
        else if (m["tasks"] is YamlSequenceNode)
        {
            tasks = [];
            foreach (var (tn, tp) in m.Sequence("tasks") ?? [])
            {
                if (_ctx.NonEmptyString(tn, tp) is { } id)
                {
                    tasks.Add(id);
                }
            }
            if (tasks.Count == 0)
            {
                _ctx.Error(m["tasks"]!, m.F("tasks"), "list at least one task id, or write tasks: all");
            }
        }
        else
        {
            _ctx.Error(m["tasks"] ?? m.Node, m.F("tasks"), "tasks must be 'all' or a list of task ids (e.g. [web-00001])");
        }
        if (cluster is null || serviceName is null || enabled is null)
        {
            return null;
        }
        if (!cluster.Services.ContainsKey(serviceName))
        {
            _ctx.Error(m["service"]!, m.F("service"),
                $"unknown service '{serviceName}' in cluster '{cluster.Name}'{_ctx.DidYouMean(serviceName, cluster.Services.Keys)}");
            return null;
        }
        return new UpdateTaskProtectionAction(cluster.Account, cluster.Name, serviceName, tasks, enabled.Value,
            expires ?? UpdateTaskProtectionAction.DefaultExpiresIn);
    }

    private DrainInstanceAction? ParseDrainInstance(MapReader m, string reason)
    {
        var cluster = ResolveCluster(m);
        var instance = m.String("instance", required: true);
        return cluster is not null && instance is not null ? new DrainInstanceAction(cluster.Account, cluster.Name, instance, reason) : null;
    }
}
