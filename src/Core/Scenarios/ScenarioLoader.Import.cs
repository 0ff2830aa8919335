using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Scheduler.Core.Scenarios;

/// <summary>
/// Imports an ECS task definition as <c>aws ecs describe-task-definition</c> prints it (the whole output, or its
/// <c>taskDefinition</c> object). Fields ECS has but the simulator does not model are accepted and ignored; unknown
/// fields and bad values are errors naming the JSON file, line and column.
/// </summary>
internal sealed partial class ScenarioParser
{
    private static readonly string[] ImportFields = ["import", "family", "revision", "runTime", "imageSizeMiB"];

    private static readonly string[] EcsTaskDefinitionFields =
    [
        "family", "revision", "cpu", "memory", "networkMode", "containerDefinitions", "placementConstraints",
        // accepted, not modelled
        "taskDefinitionArn", "taskRoleArn", "executionRoleArn", "volumes", "status", "requiresAttributes", "compatibilities",
        "runtimePlatform", "requiresCompatibilities", "registeredAt", "registeredBy", "deregisteredAt", "ephemeralStorage",
        "pidMode", "ipcMode", "proxyConfiguration", "inferenceAccelerators", "enableFaultInjection", "tags",
    ];
    private static readonly string[] EcsContainerFields =
    [
        "name", "image", "cpu", "memory", "memoryReservation", "essential", "portMappings", "healthCheck", "stopTimeout",
        "resourceRequirements",
        // accepted, not modelled
        "repositoryCredentials", "links", "restartPolicy", "entryPoint", "command", "environment", "environmentFiles",
        "mountPoints", "volumesFrom", "linuxParameters", "secrets", "dependsOn", "startTimeout", "versionConsistency",
        "hostname", "user", "workingDirectory", "disableNetworking", "privileged", "readonlyRootFilesystem", "dnsServers",
        "dnsSearchDomains", "extraHosts", "dockerSecurityOptions", "interactive", "pseudoTerminal", "dockerLabels", "ulimits",
        "logConfiguration", "systemControls", "firelensConfiguration", "credentialSpecs",
    ];
    private static readonly string[] EcsPortFields = ["containerPort", "hostPort", "protocol", "name", "appProtocol", "containerPortRange", "hostPortRange"];
    private static readonly string[] EcsHealthCheckFields = ["command", "interval", "timeout", "retries", "startPeriod"];
    private static readonly string[] EcsResourceFields = ["type", "value"];
    private static readonly string[] EcsOutputFields = ["taskDefinition", "tags"];

    private TaskDefinitionEntry? ParseImportedTaskDefinition(YamlNode node, string path)
    {
        var before = _ctx.Errors.Count;
        var m = MapReader.Open(_ctx, node, path, ImportFields);
        if (m is null || m.String("import", required: true) is not { } relative)
        {
            return null;
        }
        var familyOverride = m.String("family");
        if (familyOverride is not null && !FamilyName().IsMatch(familyOverride))
        {
            _ctx.Error(m["family"]!, m.F("family"), $"'{familyOverride}' is not a family name (letters, digits, '-' and '_', up to 255)");
        }
        var revisionOverride = m.Int("revision", min: 1);
        var runTime = m["runTime"] is { } rn ? ParseRunTime(rn, m.F("runTime")) : null;
        var imageSize = m.Int("imageSizeMiB", min: 0) ?? 100;

        string full;
        try
        {
            full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_ctx.File)) ?? "", relative));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            _ctx.Error(m["import"]!, m.F("import"), $"cannot read task definition '{relative}': {e.Message}");
            return null;
        }
        var read = ScenarioFiles.Read(full, Limits.Bytes, _cancellation);
        if (read.Text is not { } text)
        {
            var where = read.Kind == ScenarioTextProblem.BadText ? $" (line {read.Line}, column {read.Column})" : "";
            _ctx.Error(m["import"]!, m.F("import"), $"cannot read task definition '{relative}': {read.Problem}{where}");
            return null;
        }
        var json = new YamlContext(full, Limits, _cancellation);
        var spec = ReadEcsTaskDefinition(json, text, imageSize);
        if (json.Errors.Count > 0)
        {
            _ctx.Error(m["import"]!, m.F("import"), $"task definition '{relative}' has {json.Errors.Count} error(s), listed below");
            _catalogErrors.AddRange(json.Errors.Sorted());
            _catalogErrors.CountMore(json.Errors.Count - json.Errors.Sorted().Count);
        }
        if (spec is null)
        {
            return null;
        }
        spec = spec with
        {
            Family = familyOverride ?? spec.Family,
            Revision = revisionOverride ?? spec.Revision,
            RunTime = runTime,
        };
        return new TaskDefinitionEntry(spec, _ctx.Errors.Count == before);
    }

    private static TaskDefinitionSpec? ReadEcsTaskDefinition(YamlContext ctx, string text, int imageSizeMiB)
    {
        if (NotJson(text) is { } notJson)
        {
            ctx.Errors.Add(notJson with { File = ctx.File });
            return null;
        }
        var root = ctx.LoadRoot(text);
        return root is null ? null : ReadEcsTaskDefinition(ctx, root, "", imageSizeMiB);
    }

    /// <summary>An ECS task definition (a RegisterTaskDefinition request, or describe-task-definition output) already parsed as YAML.</summary>
    private static TaskDefinitionSpec? ReadEcsTaskDefinition(YamlContext ctx, YamlNode root, string prefix, int imageSizeMiB)
    {
        if (root is YamlMappingNode top && top.Children.ContainsKey(new YamlScalarNode("taskDefinition")))
        {
            // The whole describe-task-definition output: {"taskDefinition": {...}, "tags": [...]}.
            var outer = MapReader.Open(ctx, root, "", EcsOutputFields);
            if (outer?.Get("taskDefinition", required: true) is not { } inner)
            {
                return null;
            }
            root = inner;
            prefix = prefix.Length == 0 ? "taskDefinition" : prefix + ".taskDefinition";
        }
        var m = MapReader.Open(ctx, root, prefix, EcsTaskDefinitionFields);
        if (m is null)
        {
            return null;
        }
        var family = m.String("family", required: true);
        var revision = m.Int("revision", min: 1) ?? 1;
        var cpu = EcsNumber(ctx, m, "cpu");
        var memory = EcsNumber(ctx, m, "memory");
        // ECS's default network mode on Linux is bridge.
        var networkMode = m.Enum("networkMode", NetworkModes) ?? NetworkMode.Bridge;
        var constraints = new List<PlacementConstraintSpec>();
        foreach (var (n, p) in m.Sequence("placementConstraints", max: MaxPlacementConstraints) ?? [])
        {
            if (MapReader.Open(ctx, n, p, ConstraintFields) is { } cm && cm.Enum("type", ConstraintTypes, required: true) is { } t)
            {
                constraints.Add(new PlacementConstraintSpec(t, cm.String("expression")));
            }
        }
        var containers = new List<ContainerSpec>();
        var stopTimeout = TimeSpan.FromSeconds(30);
        var items = m.Sequence("containerDefinitions", required: true, max: MaxContainers);
        if (items is { Count: 0 })
        {
            ctx.Error(m["containerDefinitions"]!, m.F("containerDefinitions"), "a task definition needs at least one container");
        }
        foreach (var (n, p) in items ?? [])
        {
            if (MapReader.Open(ctx, n, p, EcsContainerFields) is not { } cm)
            {
                continue;
            }
            var name = cm.String("name", required: true);
            var image = cm.String("image", required: true);
            var ccpu = cm.Int("cpu", min: 0) ?? 0;
            var cmem = cm.Int("memory", min: 1);
            var reservation = cm.Int("memoryReservation", min: 1);
            if (reservation is { } r && cmem is { } hard && r > hard)
            {
                ctx.Error(cm["memoryReservation"]!, cm.F("memoryReservation"), $"memoryReservation ({r} MiB) is above the hard limit memory ({hard} MiB)");
            }
            if (memory is null && cmem is null && reservation is null)
            {
                ctx.Error(cm.Node, cm.F("memory"), "give memory or memoryReservation (or task-level memory)");
            }
            if (cmem is { } cmx && memory is { } tm && cmx > tm)
            {
                ctx.Error(cm["memory"]!, cm.F("memory"), $"the container's memory limit ({cmx} MiB) is above the task's memory ({tm} MiB)");
            }
            if (cm.Int("stopTimeout", min: 0, max: 120) is { } st)
            {
                stopTimeout = TimeSpan.FromSeconds(Math.Max(stopTimeout.TotalSeconds, st));
            }
            var gpus = 0;
            foreach (var (rn, rp) in cm.Sequence("resourceRequirements") ?? [])
            {
                if (MapReader.Open(ctx, rn, rp, EcsResourceFields) is { } rm && rm.String("type", required: true) == "GPU"
                    && rm.String("value", required: true) is { } gv)
                {
                    if (int.TryParse(gv, NumberStyles.None, CultureInfo.InvariantCulture, out var g))
                    {
                        gpus += g;
                    }
                    else
                    {
                        ctx.Error(rm["value"]!, rm.F("value"), $"'{gv}' is not a whole number of GPUs");
                    }
                }
            }
            HealthCheckSpec? health = null;
            if (cm.Map("healthCheck", EcsHealthCheckFields) is { } hm)
            {
                // ECS counts a container healthy after its first passing check; intervals are whole seconds.
                health = new HealthCheckSpec(TimeSpan.FromSeconds(hm.Int("startPeriod", min: 0, max: 300) ?? 0),
                    TimeSpan.FromSeconds(hm.Int("interval", min: 5, max: 300) ?? 30), 1);
                hm.Int("timeout", min: 2, max: 120);
                hm.Int("retries", min: 1, max: 10);
            }
            var ports = new List<PortMapping>();
            foreach (var (pn, pp) in cm.Sequence("portMappings") ?? [])
            {
                if (MapReader.Open(ctx, pn, pp, EcsPortFields) is { } pm && pm.Int("containerPort", min: 1, max: 65535) is { } port)
                {
                    ports.Add(new PortMapping(port, pm.Int("hostPort", min: 0, max: 65535)));
                }
            }
            if (name is not null && containers.Any(c => c.Name == name))
            {
                ctx.Error(cm["name"]!, cm.F("name"), $"two containers are named '{name}'");
            }
            if (name is not null && image is not null)
            {
                containers.Add(new ContainerSpec
                {
                    Name = name, Image = image, ImageSizeMiB = imageSizeMiB, Cpu = ccpu, Memory = cmem, MemoryReservation = reservation,
                    Gpus = gpus, Essential = cm.Bool("essential") ?? true, HealthCheck = health, PortMappings = ports,
                });
            }
        }
        if (containers.Count > 0 && !containers.Any(c => c.Essential))
        {
            ctx.Error(m["containerDefinitions"]!, m.F("containerDefinitions"), "at least one container must be essential");
        }
        if (containers.Count > 0)
        {
            CheckReservationSums(ctx, containers, m["containerDefinitions"]!, m.F("containerDefinitions"));
        }
        if (cpu is { } tc && containers.Sum(c => (long)c.Cpu) is var sum && sum > tc)
        {
            ctx.Error(m["cpu"]!, m.F("cpu"), $"the containers' cpu adds up to {sum}, above the task's {tc}");
        }
        if (family is null)
        {
            return null;
        }
        return new TaskDefinitionSpec
        {
            Family = family, Revision = revision, Cpu = cpu, Memory = memory, NetworkMode = networkMode, StopTimeout = stopTimeout,
            Containers = containers, PlacementConstraints = constraints,
        };
    }

    /// <summary>Task-level cpu and memory: ECS prints them as strings of units ("512") and accepts numbers too.</summary>
    private static int? EcsNumber(YamlContext ctx, MapReader m, string key)
    {
        if (m[key] is not YamlScalarNode { Value: { } v } node)
        {
            return m[key] is { } other ? ReportNotNumber(ctx, other, m.F(key)) : null;
        }
        if (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            return n;
        }
        ctx.Error(node, m.F(key), $"'{v}' is not a whole number of {(key == "cpu" ? "cpu units" : "MiB")}");
        return null;
    }

    private static int? ReportNotNumber(YamlContext ctx, YamlNode node, string field)
    {
        ctx.Error(node, field, $"expected a number, found {YamlContext.Describe(node)}");
        return null;
    }

    /// <summary>
    /// An imported task definition is JSON (what <c>aws ecs describe-task-definition</c> prints); anything else is
    /// reported as not JSON at the place the JSON reader stopped, rather than read as YAML. Null when it is JSON.
    /// </summary>
    private static ScenarioError? NotJson(string text)
    {
        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(text, new System.Text.Json.JsonDocumentOptions { MaxDepth = 64 });
            return null;
        }
        catch (System.Text.Json.JsonException e)
        {
            var message = e.Message;
            var at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (at >= 0)
            {
                message = message[..at];
            }
            return new ScenarioError("", (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1, "",
                $"the task definition is not JSON (an import reads what 'aws ecs describe-task-definition' prints): {message}");
        }
    }
}
