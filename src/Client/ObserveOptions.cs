using System.CommandLine;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client;

/// <summary>What a user asked to see of a run: the metrics interval, thresholds and the Orleans Dashboard.</summary>
public sealed record ObserveRequest(TimeSpan? MetricsInterval, IReadOnlyList<Threshold> Thresholds, int? DashboardPort);

/// <summary>The <c>simulate</c> options that choose what a run reports (besides events.jsonl and summary.json).</summary>
public sealed class ObserveOptions
{
    private readonly Option<string?> _metricsInterval = new("--metrics-interval")
    {
        Description = "Simulated time per row of metrics.csv (e.g. 10s, 1m, 1h). Default 1m, doubled as often as needed to stay within 50,000 rows.",
    };

    private readonly Option<string[]> _failIf = new("--fail-if")
    {
        Description = "Fail the run (exit 1) when this holds at the end, e.g. \"timeToRunning.p99>300s\", \"unplaceable>0\", \"throttles.runTask>=100\". Repeatable.",
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
    };

    private readonly Option<int?> _dashboard = new("--dashboard")
    {
        Description = "Serve the Orleans Dashboard on this port (127.0.0.1) while the run lasts.",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_metricsInterval);
        command.Options.Add(_failIf);
        command.Options.Add(_dashboard);
    }

    private static bool PortFree(int port)
    {
        try
        {
            var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            probe.Start();
            probe.Stop();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>Reads and checks the options; every mistake is reported, none runs anything.</summary>
    public bool TryRead(ParseResult parse, out ObserveRequest request, out List<string> errors)
    {
        errors = [];
        TimeSpan? interval = null;
        if (parse.GetValue(_metricsInterval) is { } text)
        {
            if (!Duration.TryParse(text, out var span, out var why) || span <= TimeSpan.Zero)
            {
                errors.Add($"--metrics-interval: '{text}' is not a positive duration (e.g. 30s, 1m, 1h){(why.Length > 0 ? $": {why}" : "")}");
            }
            else
            {
                interval = span;
            }
        }
        var thresholds = new List<Threshold>();
        foreach (var expression in parse.GetValue(_failIf) ?? [])
        {
            if (Thresholds.TryParse(expression, out var threshold, out var error))
            {
                thresholds.Add(threshold!);
            }
            else
            {
                errors.Add($"--fail-if: {error}");
            }
        }
        var port = parse.GetValue(_dashboard);
        if (port is < 1 or > 65535)
        {
            errors.Add($"--dashboard: port must be between 1 and 65535, was {port}");
        }
        else if (port is { } p && !PortFree(p))
        {
            errors.Add($"--dashboard: port {p} on 127.0.0.1 is already in use");
        }
        request = new ObserveRequest(interval, thresholds, port);
        return errors.Count == 0;
    }
}
