using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scheduler.Core.Scenarios;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Scheduler.Client.Live;

/// <summary>Task definitions as ECS JSON, and JSON requests as the YAML nodes the scenario loader reads.</summary>
public static class TaskDefinitionJson
{
    /// <summary>A scenario task definition as DescribeTaskDefinition shows it (the fields the simulator models).</summary>
    public static JsonObject FromSpec(TaskDefinitionSpec td)
    {
        var containers = new JsonArray();
        foreach (var c in td.Containers)
        {
            var container = new JsonObject
            {
                ["name"] = c.Name,
                ["image"] = c.Image,
                ["cpu"] = c.Cpu,
                ["essential"] = c.Essential,
                ["portMappings"] = new JsonArray(c.PortMappings.Select(p => (JsonNode)new JsonObject
                {
                    ["containerPort"] = p.ContainerPort,
                    ["hostPort"] = p.HostPort ?? (td.NetworkMode == NetworkMode.Awsvpc ? p.ContainerPort : 0),
                    ["protocol"] = "tcp",
                }).ToArray()),
            };
            if (c.Memory is { } memory)
            {
                container["memory"] = memory;
            }
            if (c.MemoryReservation is { } reservation)
            {
                container["memoryReservation"] = reservation;
            }
            if (c.HealthCheck is { } h)
            {
                container["healthCheck"] = new JsonObject
                {
                    ["command"] = new JsonArray("CMD-SHELL", "exit 0"),
                    ["interval"] = (int)h.Interval.TotalSeconds,
                    ["timeout"] = 5,
                    ["retries"] = 3,
                    ["startPeriod"] = (int)h.StartPeriod.TotalSeconds,
                };
            }
            if (c.Gpus > 0)
            {
                container["resourceRequirements"] = new JsonArray(new JsonObject { ["type"] = "GPU", ["value"] = c.Gpus.ToString(CultureInfo.InvariantCulture) });
            }
            containers.Add(container);
        }
        var json = new JsonObject
        {
            ["family"] = td.Family,
            ["containerDefinitions"] = containers,
            ["networkMode"] = td.NetworkMode.ToString().ToLowerInvariant(),
        };
        if (td.Cpu is { } cpu)
        {
            json["cpu"] = cpu.ToString(CultureInfo.InvariantCulture);
        }
        if (td.Memory is { } mem)
        {
            json["memory"] = mem.ToString(CultureInfo.InvariantCulture);
        }
        return json;
    }

    /// <summary>A JSON value as a YAML node: strings quoted (so "512" stays text), numbers, booleans and null plain.</summary>
    public static YamlNode ToYaml(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => new YamlMappingNode(e.EnumerateObject().SelectMany(p => new[] { (YamlNode)new YamlScalarNode(p.Name), ToYaml(p.Value) }))
        {
            Style = MappingStyle.Flow,
        },
        JsonValueKind.Array => new YamlSequenceNode(e.EnumerateArray().Select(ToYaml)) { Style = SequenceStyle.Flow },
        JsonValueKind.String => new YamlScalarNode(e.GetString()) { Style = ScalarStyle.DoubleQuoted },
        JsonValueKind.Number => new YamlScalarNode(e.GetRawText()),
        JsonValueKind.True => new YamlScalarNode("true"),
        JsonValueKind.False => new YamlScalarNode("false"),
        _ => new YamlScalarNode("null"),
    };

    /// <summary>A flow mapping of plain fields, for the timeline entries the API builds.</summary>
    public static YamlMappingNode Map(params (string Key, YamlNode? Value)[] fields)
    {
        var map = new YamlMappingNode { Style = MappingStyle.Flow };
        foreach (var (key, value) in fields)
        {
            if (value is not null)
            {
                map.Add(new YamlScalarNode(key), value);
            }
        }
        return map;
    }

    public static YamlScalarNode Text(string value) => new(value) { Style = ScalarStyle.DoubleQuoted };

    public static YamlScalarNode Number(long value) => new(value.ToString(CultureInfo.InvariantCulture));

    public static YamlScalarNode Flag(bool value) => new(value ? "true" : "false");

    public static YamlSequenceNode List(IEnumerable<YamlNode> items) => new(items) { Style = SequenceStyle.Flow };
}
