using System.Globalization;
using System.Net;

namespace Scheduler.Silo;

/// <summary>Settings of a standalone silo host (section "Silo" of the configuration).</summary>
public sealed class SiloHostOptions
{
    /// <summary><c>memory</c> (a single-silo development cluster), <c>redis</c> or <c>azuretable</c>.</summary>
    public string Store { get; set; } = "memory";
    /// <summary>How to reach the store: a Redis configuration string or an Azure Storage connection string.</summary>
    public string? Connection { get; set; }
    /// <summary>The cluster this silo joins; silos and clients of one cluster share it.</summary>
    public string ClusterId { get; set; } = "scheduler";
    public string ServiceId { get; set; } = "scheduler";
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    /// <summary>The address other silos and clients reach this one at (default 127.0.0.1).</summary>
    public string? AdvertisedIP { get; set; }
    /// <summary>Memory store only: silo port of the primary silo to join; null = this silo is the primary.</summary>
    public int? PrimarySiloPort { get; set; }
    /// <summary>Serve the Orleans Dashboard on this port of 127.0.0.1; null = no dashboard.</summary>
    public int? DashboardPort { get; set; }
    /// <summary>Running in a Kubernetes pod: address, cluster and service ids come from the pod (Orleans's Kubernetes hosting).</summary>
    public bool Kubernetes { get; set; }

    /// <summary>The command-line flags, mapped to this section.</summary>
    public static readonly IReadOnlyDictionary<string, string> Switches = new Dictionary<string, string>
    {
        ["--store"] = "Silo:Store",
        ["--connection"] = "Silo:Connection",
        ["--cluster-id"] = "Silo:ClusterId",
        ["--silo-port"] = "Silo:SiloPort",
        ["--gateway-port"] = "Silo:GatewayPort",
        ["--dashboard"] = "Silo:DashboardPort",
    };

    /// <summary>
    /// The command line's own problems, which .NET's command-line configuration would pass over in silence (and start
    /// a silo with defaults): a flag that is neither one of <see cref="Switches"/> nor a setting written as
    /// <c>--Section:Key</c>, a flag without its value, a single-dash flag, a word that is no flag at all.
    /// </summary>
    public static List<string> ArgumentProblems(IReadOnlyList<string> args)
    {
        var problems = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                problems.Add(arg.StartsWith('-')
                    ? $"{arg}: unknown option; options are {string.Join(", ", Switches.Keys)}, or any setting as --Section:Key VALUE"
                    : $"'{arg}': unexpected argument; options are {string.Join(", ", Switches.Keys)}, or any setting as --Section:Key VALUE");
                continue;
            }
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? arg : arg[..eq];
            if (!Switches.Keys.Contains(name, StringComparer.OrdinalIgnoreCase) && !name.Contains(':', StringComparison.Ordinal))
            {
                problems.Add($"{name}: unknown option; options are {string.Join(", ", Switches.Keys)}, or any setting as --Section:Key VALUE");
            }
            if (eq < 0)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    problems.Add($"{name}: needs a value");
                    continue;
                }
                i++;
            }
        }
        return problems;
    }

    /// <summary>Every problem of the settings, each naming its flag.</summary>
    public static List<string> Problems(Microsoft.Extensions.Configuration.IConfiguration section)
    {
        var problems = new List<string>();
        var store = section["Store"] ?? "memory";
        if (!SchedulerStore.TryParseKind(store, out var kind))
        {
            problems.Add($"--store: '{store}' is not a store; use memory, redis or azuretable");
        }
        else if (SchedulerStore.Problem(kind, section["Connection"]) is { } problem)
        {
            problems.Add($"--connection: {problem}");
        }
        foreach (var (key, flag) in new[] { ("SiloPort", "--silo-port"), ("GatewayPort", "--gateway-port"), ("PrimarySiloPort", "Silo:PrimarySiloPort"), ("DashboardPort", "--dashboard") })
        {
            if (section[key] is { } text && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535))
            {
                problems.Add($"{flag}: '{text}' is not a port number (1 to 65535)");
            }
        }
        if (section["ClusterId"] is { } id && string.IsNullOrWhiteSpace(id))
        {
            problems.Add("--cluster-id: must not be empty");
        }
        if (section["AdvertisedIP"] is { } ip && !IPAddress.TryParse(ip, out _))
        {
            problems.Add($"Silo:AdvertisedIP: '{ip}' is not an IP address");
        }
        if (section["Kubernetes"] is { } k && !bool.TryParse(k, out _))
        {
            problems.Add($"Silo:Kubernetes: '{k}' is not true or false");
        }
        return problems;
    }
}
