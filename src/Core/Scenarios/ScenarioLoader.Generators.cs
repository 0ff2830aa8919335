using System.Globalization;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Randomness;
using Scheduler.Core.Workloads;
using YamlDotNet.RepresentationModel;

namespace Scheduler.Core.Scenarios;

/// <summary>
/// Workload generators: <c>tenants</c> (many accounts from a template), <c>arrivals</c> (RunTask
/// arrival processes) and <c>traceReplay</c> (the Alibaba openb trace). Each expands, seeded, into ordinary accounts,
/// clusters, services and timeline entries, so the engine sees nothing new.
/// </summary>
internal sealed partial class ScenarioParser
{
    private static readonly string[] GeneratorNames = ["tenants", "arrivals", "traceReplay"];
    private static readonly string[] TenantFields =
        ["count", "idPrefix", "limits", "clustersPerAccount", "clusterPrefix", "cluster", "services", "arrivals"];
    private static readonly string[] GeneratedServiceFields =
        ["count", "namePrefix", "capacityProvider", "desiredCount", "sizes", "image", "imageSizeMiB", "loadBalancer"];
    private static readonly string[] SizeFields = ["cpu", "memory", "gpus", "weight"];
    private static readonly string[] ArrivalFields =
    [
        "taskDefinition", "capacityProvider", "process", "count", "ratePerHour", "peakHour", "amplitude", "every", "size",
        "jitter", "runTime", "from", "until",
    ];
    private static readonly string[] ArrivalTargetFields = ["account", "cluster", .. ArrivalFields];
    private static readonly string[] DistributionFields = ["min", "max", "mean", "stddev", "median", "sigma"];
    private static readonly string[] TraceFields =
    [
        "format", "path", "pods", "nodes", "account", "cluster", "zones", "fleet", "qos", "defaultMapping", "gpuModels",
        "timeScale", "window", "maxPods", "instanceRequirements", "gpuInstanceRequirements", "maintenanceWindow",
    ];
    private static readonly string[] WindowRangeFields = ["from", "to"];
    private static readonly Dictionary<string, ArrivalKind> ArrivalKinds = new()
    {
        ["poisson"] = ArrivalKind.Poisson, ["bursts"] = ArrivalKind.Bursts, ["diurnal"] = ArrivalKind.Diurnal,
    };
    private static readonly Dictionary<string, TraceFleet> Fleets = new()
    {
        ["external"] = TraceFleet.External, ["managedInstances"] = TraceFleet.ManagedInstances,
    };
    private static readonly Dictionary<string, PodMapping> PodMappings = new()
    {
        ["service"] = PodMapping.Service, ["runTask"] = PodMapping.RunTask,
    };

    /// <summary>The trace replays of this scenario, for accounting and reports (pure data).</summary>
    public List<TraceReplayPlan> TraceReplays { get; } = [];

    private void ParseGenerators(MapReader m, long seed, DateTimeOffset start, TimeSpan? duration, List<AccountSpec> accounts,
        List<TimelineEntry> timeline)
    {
        foreach (var (node, path) in m.Sequence("generators") ?? [])
        {
            if (MapReader.Open(_ctx, node, path, GeneratorNames) is not { } g)
            {
                continue;
            }
            var present = GeneratorNames.Where(g.Contains).ToArray();
            if (present.Length != 1)
            {
                _ctx.Error(present.Length == 0 ? g.Node : g.KeyNode(present[1])!, path, present.Length == 0
                    ? $"a generator needs one of: {string.Join(", ", GeneratorNames)}"
                    : $"a generator holds one kind; '{present[0]}' is already given");
                continue;
            }
            var line = (int)node.Start.Line;
            switch (present[0])
            {
                case "tenants":
                    if (g.Map("tenants", TenantFields, required: true) is { } tm)
                    {
                        ParseTenants(tm, seed, start, duration, accounts, timeline, line);
                    }
                    break;
                case "arrivals":
                    if (g.Map("arrivals", ArrivalTargetFields, required: true) is { } am && ResolveCluster(am) is var cluster
                        && ParseArrival(am, cluster, duration) is { } arrival && cluster is not null)
                    {
                        AddArrivals(arrival, seed, start, duration, cluster.Account, cluster.Name, $"{path}", line, am.Node, timeline);
                    }
                    break;
                default:
                    if (g.Map("traceReplay", TraceFields, required: true) is { } rm)
                    {
                        ParseTraceReplay(rm, accounts, timeline, line);
                    }
                    break;
            }
        }
    }

    // ---------------------------------------------------------------- tenants

    private void ParseTenants(MapReader m, long seed, DateTimeOffset start, TimeSpan? duration, List<AccountSpec> accounts,
        List<TimelineEntry> timeline, int line)
    {
        var count = m.Int("count", required: true, min: 1, max: 100_000);
        var idPrefix = m.String("idPrefix") ?? "tenant-";
        var limits = ParseLimits(m);
        var perAccount = m.Int("clustersPerAccount", min: 1, max: 1000) ?? 1;
        var clusterPrefix = m.String("clusterPrefix") ?? "cluster-";
        var templateName = clusterPrefix + "*";
        var registry = new Dictionary<string, ClusterInfo>(StringComparer.Ordinal);
        var before = _ctx.Errors.Count;
        var template = m.Get("cluster", required: true) is { } cn ? ParseCluster(cn, m.F("cluster"), "", registry, templateName) : null;
        var info = registry.GetValueOrDefault(templateName);

        GeneratedServices? services = null;
        if (m.Map("services", GeneratedServiceFields) is { } sm && info is not null)
        {
            services = ParseGeneratedServices(sm, info);
        }
        var arrivals = new List<(ArrivalSpec Spec, MapReader Node)>();
        foreach (var (an, ap) in m.Sequence("arrivals") ?? [])
        {
            if (MapReader.Open(_ctx, an, ap, ArrivalFields) is { } am && info is not null && ParseArrival(am, info, duration) is { } spec)
            {
                arrivals.Add((spec, am));
            }
        }
        if (count is not { } n || template is null || info is null || _ctx.Errors.Count != before)
        {
            return;
        }

        CheckTenantCount(n, perAccount, m["count"]!, m.F("count"));
        var width = n.ToString(CultureInfo.InvariantCulture).Length;
        var clusterWidth = perAccount.ToString(CultureInfo.InvariantCulture).Length;
        for (var i = 1; i <= n; i++)
        {
            var id = idPrefix + i.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0');
            if (_accounts.ContainsKey(id))
            {
                _ctx.Error(m["idPrefix"] ?? m.Node, m.F("idPrefix"), $"generated account '{id}' is already defined");
                return;
            }
            var clusters = new Dictionary<string, ClusterInfo>(StringComparer.Ordinal);
            _accounts[id] = clusters;
            var specs = new List<ClusterSpec>();
            for (var c = 1; c <= perAccount; c++)
            {
                var name = clusterPrefix + c.ToString(CultureInfo.InvariantCulture).PadLeft(clusterWidth, '0');
                var entity = $"{id}/{name}";
                var clusterInfo = new ClusterInfo(id, name, info.Zones);
                foreach (var (k, v) in info.CapacityProviders)
                {
                    clusterInfo.CapacityProviders[k] = v;
                }
                foreach (var (k, v) in info.TaskDefinitions)
                {
                    clusterInfo.TaskDefinitions[k] = v;
                }
                foreach (var (k, v) in info.Services)
                {
                    clusterInfo.Services[k] = v;
                }
                var taskDefinitions = template.TaskDefinitions.ToList();
                var serviceSpecs = template.Services.ToList();
                if (services is not null)
                {
                    var k = services.Count.Sample(seed, entity, "services.count", 0);
                    for (var s = 1; s <= k; s++)
                    {
                        var (td, svc) = services.Make(seed, entity, s);
                        taskDefinitions.Add(td);
                        serviceSpecs.Add(svc);
                        clusterInfo.Services[svc.Name] = new ServiceEntry(svc, [info.CapacityProviders[services.CapacityProvider]]);
                        clusterInfo.TaskDefinitions[td.Family] = new SortedDictionary<int, TaskDefinitionEntry> { [1] = new(td, true) };
                    }
                }
                clusters[name] = clusterInfo;
                var spec = template with { Name = name, TaskDefinitions = taskDefinitions, Services = serviceSpecs };
                CountEntities(EntitiesOf(spec), m["count"], m.F("count"));
                specs.Add(spec);
                for (var a = 0; a < arrivals.Count; a++)
                {
                    AddArrivals(arrivals[a].Spec, seed, start, duration, id, name, $"{entity}/arrivals[{a}]", line, arrivals[a].Node.Node, timeline);
                }
            }
            CountEntities(1, m["count"], m.F("count"));
            accounts.Add(new AccountSpec { Id = id, Limits = limits, Clusters = specs });
        }
    }

    /// <summary>Services generated into each cluster of a tenants generator: how many, their size and desired count.</summary>
    private sealed record GeneratedServices(
        IntDistribution Count, string NamePrefix, string CapacityProvider, IntDistribution DesiredCount,
        IReadOnlyList<(int Cpu, int Memory, int Gpus, int Weight)> Sizes, string Image, int ImageSizeMiB, bool LoadBalancer)
    {
        public (TaskDefinitionSpec, ServiceSpec) Make(long seed, string clusterEntity, int index)
        {
            var name = $"{NamePrefix}{index:D2}";
            var total = Sizes.Sum(s => s.Weight);
            var pick = (int)(DeterministicRandom.NextUInt64(seed, clusterEntity, "services.size", index) % (ulong)total);
            var size = Sizes[^1];
            foreach (var s in Sizes)
            {
                if (pick < s.Weight)
                {
                    size = s;
                    break;
                }
                pick -= s.Weight;
            }
            var td = SizedTaskDefinition(name, size.Cpu, size.Memory, size.Gpus, Image, ImageSizeMiB);
            var svc = new ServiceSpec
            {
                Name = name,
                TaskDefinition = name,
                DesiredCount = DesiredCount.Sample(seed, clusterEntity, "services.desiredCount", index),
                CapacityProviderStrategy = [new CapacityProviderStrategyItem(CapacityProvider, 1, 0)],
                LoadBalancer = LoadBalancer,
            };
            return (td, svc);
        }
    }

    private static TaskDefinitionSpec SizedTaskDefinition(string family, int cpu, int memory, int gpus, string image, int imageSizeMiB) => new()
    {
        Family = family,
        Cpu = cpu,
        Memory = memory,
        Containers =
        [
            new ContainerSpec
            {
                Name = "app", Image = image, ImageSizeMiB = imageSizeMiB, Cpu = cpu, MemoryReservation = memory, Memory = memory, Gpus = gpus,
            },
        ],
    };

    private GeneratedServices? ParseGeneratedServices(MapReader m, ClusterInfo template)
    {
        var before = _ctx.Errors.Count;
        var count = ParseIntDistribution(m, "count", 0, 1000, required: true);
        var prefix = m.String("namePrefix") ?? "svc-";
        var cpName = m.String("capacityProvider");
        var cp = cpName is not null
            ? ResolveCapacityProvider(template, m["capacityProvider"]!, m.F("capacityProvider"), cpName)
            : DefaultCapacityProvider(template, m.Node, m.F("capacityProvider"));
        var desired = ParseIntDistribution(m, "desiredCount", 0, 100_000, required: true);
        var image = m.String("image") ?? "tenant/app:1";
        var imageSize = m.Int("imageSizeMiB", min: 0) ?? 100;
        var sizes = new List<(int, int, int, int)>();
        var sizeItems = m.Sequence("sizes", required: true);
        if (sizeItems is { Count: 0 })
        {
            _ctx.Error(m["sizes"]!, m.F("sizes"), "list at least one size");
        }
        foreach (var (n, p) in sizeItems ?? [])
        {
            if (MapReader.Open(_ctx, n, p, SizeFields) is not { } sm)
            {
                continue;
            }
            var cpu = sm.Int("cpu", required: true, min: 1);
            var memory = sm.Int("memory", required: true, min: 1);
            var gpus = sm.Int("gpus", min: 0, max: 64) ?? 0;
            var weight = sm.Int("weight", min: 1, max: 1_000_000) ?? 1;
            if (cpu is { } c && memory is { } mem)
            {
                sizes.Add((c, mem, gpus, weight));
                if (cp is not null)
                {
                    var probe = new TaskDefinitionEntry(SizedTaskDefinition("size", c, mem, gpus, image, imageSize), true);
                    CheckFits(probe, cp, sm.Node, p, []);
                }
            }
        }
        if (count is null || desired is null || cp is null || _ctx.Errors.Count != before)
        {
            return null;
        }
        foreach (var family in template.TaskDefinitions.Keys.Concat(template.Services.Keys))
        {
            if (family.StartsWith(prefix, StringComparison.Ordinal))
            {
                _ctx.Error(m["namePrefix"] ?? m.Node, m.F("namePrefix"),
                    $"generated services are named '{prefix}01', '{prefix}02', ...; the template already has '{family}' with that prefix");
                return null;
            }
        }
        return new GeneratedServices(count, prefix, cp.Spec.Name, desired, sizes, image, imageSize, m.Bool("loadBalancer") ?? false);
    }

    /// <summary>A whole number, or {min, max} (uniform), {mean, stddev, min?, max?} (normal), {median, sigma, min?, max?} (log-normal).</summary>
    private IntDistribution? ParseIntDistribution(MapReader parent, string key, int lo, int hi, bool required = false)
    {
        if (parent.Get(key, required) is not { } node)
        {
            return null;
        }
        var field = parent.F(key);
        if (node is YamlScalarNode)
        {
            return _ctx.Long(node, field, lo, hi) is { } v ? IntDistribution.Fixed((int)v) : null;
        }
        if (MapReader.Open(_ctx, node, field, DistributionFields) is not { } m)
        {
            return null;
        }
        var before = _ctx.Errors.Count;
        var min = m.Int("min", min: lo, max: hi);
        var max = m.Int("max", min: lo, max: hi);
        if (min is { } a && max is { } b && a > b)
        {
            _ctx.Error(m["min"]!, m.F("min"), $"min ({a}) is above max ({b})");
        }
        IntDistribution? result = null;
        if (m.Has("mean") || m.Has("stddev"))
        {
            var mean = m.Double("mean", required: true, min: lo, max: hi);
            var stddev = m.Double("stddev", required: true, min: 0, max: hi);
            if (m.Has("median") || m.Has("sigma"))
            {
                _ctx.Error(m.Node, field, "give mean and stddev (normal) or median and sigma (log-normal), not both");
            }
            result = mean is { } mu && stddev is { } sd ? new IntDistribution(IntDistributionKind.Normal, mu, sd, min ?? lo, max ?? hi) : null;
        }
        else if (m.Has("median") || m.Has("sigma"))
        {
            var median = m.Double("median", required: true, min: Math.Max(lo, 1e-9), max: hi);
            var sigma = m.Double("sigma", required: true, min: 0, max: 10);
            result = median is { } md && sigma is { } sg ? new IntDistribution(IntDistributionKind.LogNormal, md, sg, min ?? lo, max ?? hi) : null;
        }
        else if (min is { } u1 && max is { } u2)
        {
            result = IntDistribution.Uniform(u1, u2);
        }
        else if (_ctx.Errors.Count == before)
        {
            _ctx.Error(m.Node, field, "a distribution is a number, {min, max}, {mean, stddev} or {median, sigma}");
        }
        return _ctx.Errors.Count == before ? result : null;
    }

    // ---------------------------------------------------------------- arrivals

    /// <summary>An arrival process; with <paramref name="cluster"/> null (its account or cluster is unknown) only its own fields are checked.</summary>
    private ArrivalSpec? ParseArrival(MapReader m, ClusterInfo? cluster, TimeSpan? duration)
    {
        var before = _ctx.Errors.Count;
        var process = m.Enum("process", ArrivalKinds, required: true);
        var tdRef = m.String("taskDefinition", required: true);
        var cpName = m.String("capacityProvider");
        var td = tdRef is null || cluster is null ? null : ResolveTaskDefinition(cluster, m["taskDefinition"]!, m.F("taskDefinition"), tdRef);
        var cp = cluster is null ? null : cpName is not null
            ? ResolveCapacityProvider(cluster, m["capacityProvider"]!, m.F("capacityProvider"), cpName)
            : DefaultCapacityProvider(cluster, m.Node, m.F("capacityProvider"));
        if (td is not null && cp is not null)
        {
            CheckFits(td, cp, m["capacityProvider"] ?? m.Node, m.F("capacityProvider"), []);
        }
        var count = ParseIntDistribution(m, "count", 1, 10) ?? IntDistribution.Fixed(1);
        var rate = m.Double("ratePerHour", min: 0, max: 1e7);
        var peakHour = m.Double("peakHour", min: 0, max: 24);
        var amplitude = m.Double("amplitude", min: 0, max: 1);
        var every = m.Duration("every", positive: true);
        var size = m.Int("size", min: 1, max: 1_000_000);
        var jitter = m.Duration("jitter");
        var runTime = m["runTime"] is { } rn ? ParseRunTime(rn, m.F("runTime")) : null;
        var from = m.Duration("from") ?? TimeSpan.Zero;
        var until = m.Duration("until", positive: true);
        if (until is { } u && u <= from && m["until"] is { } un)
        {
            _ctx.Error(un, m.F("until"), $"until ({Duration.Format(u)}) is not after from ({Duration.Format(from)})");
        }
        if (duration is null && until is null)
        {
            _ctx.Error(m.Node, m.F("until"), "the scenario runs until settled, so arrivals need an end: give until");
        }
        string[] notApplicable = process switch
        {
            ArrivalKind.Bursts => ["ratePerHour", "peakHour", "amplitude", "count"],
            ArrivalKind.Poisson => ["every", "size", "jitter", "peakHour", "amplitude"],
            ArrivalKind.Diurnal => ["every", "size", "jitter"],
            _ => [],
        };
        foreach (var key in notApplicable)
        {
            if (m[key] is { } n)
            {
                _ctx.Error(n, m.F(key), $"'{key}' does not apply to {process.ToString()!.ToLowerInvariant()} arrivals");
            }
        }
        if (process is ArrivalKind.Poisson or ArrivalKind.Diurnal && rate is null && !m.Has("ratePerHour"))
        {
            _ctx.Error(m.Node, m.F("ratePerHour"), "missing required field 'ratePerHour'");
        }
        if (process is ArrivalKind.Bursts && every is null && !m.Has("every"))
        {
            _ctx.Error(m.Node, m.F("every"), "missing required field 'every'");
        }
        if (_ctx.Errors.Count != before || process is not { } kind || tdRef is null || cp is null)
        {
            return null;
        }
        return new ArrivalSpec
        {
            TaskDefinition = tdRef, CapacityProvider = cp.Spec.Name, Process = kind, Count = count, RatePerHour = rate ?? 0,
            PeakHour = peakHour ?? 14, Amplitude = amplitude ?? 0.5, Every = every ?? TimeSpan.FromHours(1), BurstSize = size ?? 10,
            Jitter = jitter ?? TimeSpan.Zero, RunTime = runTime, From = from, Until = until,
        };
    }

    private void AddArrivals(ArrivalSpec spec, long seed, DateTimeOffset start, TimeSpan? duration, string account, string cluster,
        string entity, int line, YamlNode at, List<TimelineEntry> timeline)
    {
        var end = (long)(duration ?? spec.Until ?? TimeSpan.Zero).TotalMilliseconds;
        if (spec.Process == ArrivalKind.Bursts)
        {
            CheckBurstCalls(ArrivalProcess.MaxBurstCalls(spec, end), spec, at);
        }
        foreach (var arrival in ArrivalProcess.Generate(spec, seed, entity, start, end))
        {
            CountTimelineEntry(at, "generators");
            timeline.Add(new TimelineEntry(TimeSpan.FromMilliseconds(arrival.AtMs),
                new RunTaskAction(account, cluster, spec.TaskDefinition, arrival.Count, spec.CapacityProvider, spec.RunTime), line));
        }
    }

    // ---------------------------------------------------------------- trace replay

    private void ParseTraceReplay(MapReader m, List<AccountSpec> accounts, List<TimelineEntry> timeline, int line)
    {
        var before = _ctx.Errors.Count;
        if (m.String("format") is { } format && format != "alibaba-openb")
        {
            _ctx.Error(m["format"]!, m.F("format"), $"unknown trace format '{format}'; the only format is alibaba-openb");
        }
        var folderNode = m.Get("path", required: true);
        var folderText = folderNode is null ? null : _ctx.NonEmptyString(folderNode, m.F("path"));
        var podsFile = m.String("pods") ?? AlibabaOpenbTrace.DefaultPodFile;
        var nodesFile = m.String("nodes") ?? AlibabaOpenbTrace.DefaultNodeFile;
        var defaults = new TraceReplayOptions();
        var account = m.String("account") ?? defaults.Account;
        var clusterName = m.String("cluster") ?? defaults.Cluster;
        var zones = ParseZones(m, [.. defaults.Zones]);
        var fleet = m.Enum("fleet", Fleets) ?? TraceFleet.External;
        var qos = new SortedDictionary<string, PodMapping>(defaults.Qos.ToDictionary(), StringComparer.Ordinal);
        if (m.Get("qos", false) is { } qn)
        {
            if (qn is YamlMappingNode qmap)
            {
                foreach (var (k, v) in qmap.Children)
                {
                    if (k is YamlScalarNode { Value: { } cls } && _ctx.Enum(v, $"{m.F("qos")}.{cls}", PodMappings) is { } mapping)
                    {
                        qos[cls] = mapping;
                    }
                }
            }
            else
            {
                _ctx.Error(qn, m.F("qos"), $"expected a mapping of QoS class to service or runTask, found {YamlContext.Describe(qn)}");
            }
        }
        var defaultMapping = m.Enum("defaultMapping", PodMappings) ?? PodMapping.RunTask;
        var gpuModels = new SortedDictionary<string, string>(defaults.GpuModels.ToDictionary(), StringComparer.Ordinal);
        var catalogModels = _catalog?.Types.Select(t => t.GpuModel).OfType<string>().Distinct().ToArray();
        if (m.Get("gpuModels", false) is { } gn)
        {
            if (gn is YamlMappingNode gmap)
            {
                foreach (var (k, v) in gmap.Children)
                {
                    if (k is YamlScalarNode { Value: { } traceModel } && _ctx.NonEmptyString(v, $"{m.F("gpuModels")}.{traceModel}") is { } model)
                    {
                        if (catalogModels is not null && !catalogModels.Contains(model, StringComparer.OrdinalIgnoreCase))
                        {
                            _ctx.Error(v, $"{m.F("gpuModels")}.{traceModel}",
                                $"no GPU model '{model}' in the instance catalog (it has {string.Join(", ", catalogModels)}){_ctx.DidYouMean(model, catalogModels)}");
                        }
                        gpuModels[traceModel] = model;
                    }
                }
            }
            else
            {
                _ctx.Error(gn, m.F("gpuModels"), $"expected a mapping of trace GPU model to catalog GPU model, found {YamlContext.Describe(gn)}");
            }
        }
        var timeScale = m.Double("timeScale", min: 1e-3, max: 1e9) ?? 1;
        TimeSpan windowFrom = TimeSpan.Zero;
        TimeSpan? windowTo = null;
        if (m.Map("window", WindowRangeFields) is { } wm)
        {
            windowFrom = wm.Duration("from") ?? TimeSpan.Zero;
            windowTo = wm.Duration("to", positive: true);
            if (windowTo is { } wt && wt <= windowFrom)
            {
                _ctx.Error(wm["to"]!, wm.F("to"), $"to ({Duration.Format(wt)}) is not after from ({Duration.Format(windowFrom)})");
            }
        }
        var maxPods = m.Int("maxPods", min: 1);
        var cpuRequirements = m.Map("instanceRequirements", RequirementFields) is { } cr ? ParseRequirements(cr) : null;
        var gpuRequirements = m.Map("gpuInstanceRequirements", RequirementFields) is { } gr ? ParseRequirements(gr) : null;
        var window = m.Map("maintenanceWindow", WindowFields) is { } mw ? ParseWindow(mw) : null;
        if (fleet == TraceFleet.External)
        {
            foreach (var key in new[] { "instanceRequirements", "gpuInstanceRequirements", "maintenanceWindow" })
            {
                if (m[key] is { } n)
                {
                    _ctx.Error(n, m.F(key), $"'{key}' applies to fleet managedInstances only (an external fleet is the trace's own nodes)");
                }
            }
        }
        if (_accounts.ContainsKey(account))
        {
            _ctx.Error(m["account"] ?? m.Node, m.F("account"), $"account '{account}' is already defined; give the trace replay its own account");
        }
        if (folderText is null || _ctx.Errors.Count != before || _catalog is null)
        {
            return;
        }

        string folder;
        try
        {
            folder = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_ctx.File)) ?? "", folderText));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            _ctx.Error(folderNode!, m.F("path"), $"'{folderText}' is not a usable path: {e.Message}");
            return;
        }
        if (!Directory.Exists(folder))
        {
            _ctx.Error(folderNode!, m.F("path"), $"trace folder '{folder}' does not exist");
            return;
        }
        var fileErrors = new List<ScenarioError>();
        var pods = ReadTraceFile(folder, podsFile, m, "pods", fileErrors, AlibabaOpenbTrace.ReadPods);
        var nodes = ReadTraceFile(folder, nodesFile, m, "nodes", fileErrors, AlibabaOpenbTrace.ReadNodes);
        if (fileErrors.Count > 0)
        {
            _ctx.Error(folderNode!, m.F("path"), $"the trace has {fileErrors.Count} error(s), listed below");
            _catalogErrors.AddRange(fileErrors);
        }
        if (pods is null || nodes is null || fileErrors.Count > 0)
        {
            return;
        }
        var options = new TraceReplayOptions
        {
            Account = account, Cluster = clusterName, Zones = zones, Fleet = fleet, Qos = qos, DefaultMapping = defaultMapping,
            GpuModels = gpuModels, TimeScale = timeScale, WindowFrom = windowFrom, WindowTo = windowTo, MaxPods = maxPods,
            CpuRequirements = cpuRequirements, GpuRequirements = gpuRequirements, MaintenanceWindow = window,
        };
        var plan = TraceReplay.Expand(options, pods, nodes, _catalog);
        TraceReplays.Add(plan);
        CountAccount(plan.Account, m.Node, m.Path);
        accounts.Add(plan.Account);
        var cluster = plan.Account.Clusters[0];
        var info = new ClusterInfo(account, clusterName, zones);
        foreach (var cp in cluster.CapacityProviders)
        {
            info.CapacityProviders[cp.Name] = new CapacityProviderEntry(cp, true,
                cp.Type == CapacityType.ManagedInstances ? _catalog.Select(cp.InstanceRequirements) : null);
        }
        foreach (var td in cluster.TaskDefinitions)
        {
            info.TaskDefinitions[td.Family] = new SortedDictionary<int, TaskDefinitionEntry> { [td.Revision] = new(td, true) };
        }
        foreach (var svc in cluster.Services)
        {
            info.Services[svc.Name] = new ServiceEntry(svc, [info.CapacityProviders[svc.CapacityProviderStrategy[0].CapacityProvider]]);
        }
        _accounts[account] = new Dictionary<string, ClusterInfo>(StringComparer.Ordinal) { [clusterName] = info };
        foreach (var (at, action) in plan.Timeline)
        {
            CountTimelineEntry(m.Node, m.Path);
            timeline.Add(new TimelineEntry(at, action, line));
        }
    }

    private T? ReadTraceFile<T>(string folder, string name, MapReader m, string key, List<ScenarioError> errors,
        Func<string, string, List<ScenarioError>, T> read) where T : class
    {
        string full;
        try
        {
            full = Path.Combine(folder, name);
        }
        catch (ArgumentException e)
        {
            _ctx.Error(m[key] ?? m["path"]!, m.Has(key) ? m.F(key) : m.F("path"), $"cannot read trace file '{name}': {e.Message}");
            return null;
        }
        var text = ScenarioFiles.Read(full, Limits.Bytes, _cancellation);
        if (!text.Ok)
        {
            var where = text.Kind == ScenarioTextProblem.BadText ? $" (line {text.Line}, column {text.Column})" : "";
            _ctx.Error(m[key] ?? m["path"]!, m.Has(key) ? m.F(key) : m.F("path"), $"cannot read trace file '{full}': {text.Problem}{where}");
            return null;
        }
        return read(full, text.Text!, errors);
    }
}
