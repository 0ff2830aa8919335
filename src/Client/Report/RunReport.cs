using System.Globalization;
using System.Net;
using System.Text;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client.Report;

/// <summary>
/// report.html: the run for a person, in one file that opens offline. The summary's tables, and charts drawn
/// by ScottPlot as SVG elements inlined in the page (no script, no fonts or images fetched from anywhere).
/// </summary>
public static class RunReport
{
    private const int Width = 960, Height = 340;

    /// <summary>The charts every report has, by element id (a test opens the page and checks each is drawn).</summary>
    public static readonly IReadOnlyList<string> ChartIds =
        ["chart-tasks", "chart-instance-ages", "chart-utilisation", "chart-launches", "chart-time-to-running", "chart-placements", "chart-replacements"];

    public static async Task WriteAsync(string path, RunSummary summary, MetricsRecorder metrics, IReadOnlyList<long> timeToRunningMs,
        IReadOnlyList<ThresholdResult> thresholds, CancellationToken cancellation = default) =>
        await File.WriteAllTextAsync(path, Html(summary, metrics, timeToRunningMs, thresholds), Encoding.UTF8, cancellation);

    public static string Html(RunSummary s, MetricsRecorder m, IReadOnlyList<long> timeToRunningMs, IReadOnlyList<ThresholdResult> thresholds)
    {
        var html = new StringBuilder(1 << 20);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append($"<title>{E(s.Scenario)} — scheduler run report</title>\n");
        html.Append("""
            <style>
            body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
            h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
            table { border-collapse: collapse; margin: 0.5em 0 1em; }
            td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; }
            .fail { color: #b00; font-weight: bold; } .pass { color: #070; }
            figure.chart { margin: 1em 0; } figure.chart svg { max-width: 100%; height: auto; }
            figcaption { font-size: 0.9em; color: #555; }
            .tables { display: flex; flex-wrap: wrap; gap: 0 2em; align-items: flex-start; }
            </style>
            </head>
            <body>

            """);
        html.Append($"<h1>{E(s.Scenario)} <small>(seed {s.Seed})</small></h1>\n");
        html.Append($"<p>{E(Duration.Format(TimeSpan.FromSeconds(s.SimulatedSeconds)))} simulated in {s.WallSeconds:0.##} wall seconds; " +
                    $"{s.Events:N0} events in {s.Ticks:N0} ticks. metrics.csv: {m.Rows.Count:N0} rows of {E(Duration.Format(TimeSpan.FromMilliseconds(m.IntervalMs)))}.</p>\n");

        if (thresholds.Count > 0)
        {
            html.Append("<h2>Thresholds</h2>\n<table id=\"thresholds\"><tr><th>threshold</th><th>value</th><th>result</th></tr>\n");
            foreach (var t in thresholds)
            {
                html.Append($"<tr><td>{E(t.Threshold.Text)}</td><td class=\"n\">{E(Thresholds.Format(t.Measured, t.Threshold.Unit))}</td>" +
                            $"<td class=\"{(t.Failed ? "fail\">FAIL" : "pass\">pass")}</td></tr>\n");
            }
            html.Append("</table>\n");
        }

        html.Append("<h2>Summary</h2>\n<div class=\"tables\">\n");
        Table(html, "summary", "figure", "value",
        [
            ("tasks launched", N(s.TasksLaunched)),
            ("tasks healthy", N(s.TasksHealthy)),
            ("last task healthy at", s.TasksHealthy == 0 ? "never" : $"{s.LastHealthyAt:0.###} s"),
            ("time to running p50 / p90 / p99 / max", $"{s.TimeToRunning.P50} / {s.TimeToRunning.P90} / {s.TimeToRunning.P99} / {s.TimeToRunning.Max} s"),
            ("launch rate", $"{s.LaunchRate:0.###} tasks/s"),
            ("unplaceable", N(s.Unplaceable)),
            ("OOM kills", N(s.OomKills)),
            ("RunTask tasks refused", N(s.RunTaskTasksRefused)),
            ("max instance age", $"{s.MaxInstanceAgeDays:0.###} days"),
            ("reserved utilisation cpu / memory", $"{s.ReservedUtilisation.CpuPercent:0.#} % / {s.ReservedUtilisation.MemoryPercent:0.#} %"),
            ("instance-hours", $"{s.InstanceHours:N1}"),
            ("Fargate vCPU-hours / GB-hours", $"{s.FargateVcpuHours:N1} / {s.FargateGbHours:N1}"),
            ("cost", $"${s.Cost:N2}"),
        ]);
        Table(html, "stopped", "tasks stopped by reason", "tasks", s.TasksStoppedByReason.Select(kv => (kv.Key, N(kv.Value))));
        Table(html, "replacements", "replacements by reason", "instances", s.ReplacementsByReason.Select(kv => (kv.Key, N(kv.Value))));
        Table(html, "instances", "instances launched by type", "instances", s.InstancesLaunched.Select(kv => (kv.Key, N(kv.Value))));
        Table(html, "throttles", "throttles by bucket", "requests / tasks",
            s.Throttles.Select(kv => (kv.Key, $"{N(kv.Value)} / {N(s.ThrottledTasks.GetValueOrDefault(kv.Key))}")));
        Table(html, "min-healthy", "min healthy % during drains", "percent", s.MinHealthyPercentDuringDrains.Select(kv => (kv.Key, $"{kv.Value:0.#}")));
        Table(html, "costs", "cost by capacity type", "dollars", s.CostByCapacityType.Select(kv => (kv.Key, $"${kv.Value:N2}")));
        Table(html, "api-errors", "API errors", "calls", s.ApiErrors.Select(kv => (kv.Key, N(kv.Value))));
        html.Append("</div>\n");

        html.Append("<h2>Charts</h2>\n");
        foreach (var (id, caption, svg) in Charts.Render(s, m, timeToRunningMs, Width, Height))
        {
            html.Append($"<figure class=\"chart\" id=\"{id}\">\n{svg}\n<figcaption>{E(caption)}</figcaption>\n</figure>\n");
        }
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void Table(StringBuilder html, string id, string name, string value, IEnumerable<(string Key, string Value)> rows)
    {
        html.Append($"<table id=\"table-{id}\"><tr><th>{E(name)}</th><th>{E(value)}</th></tr>\n");
        var any = false;
        foreach (var (k, v) in rows)
        {
            any = true;
            html.Append($"<tr><td>{E(k)}</td><td class=\"n\">{E(v)}</td></tr>\n");
        }
        if (!any)
        {
            html.Append("<tr><td colspan=\"2\">none</td></tr>\n");
        }
        html.Append("</table>\n");
    }

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>The replacement reasons, in the order the report lists them (all of them, so a zero shows as zero).</summary>
    internal static readonly string[] ReplacementReasons =
    [
        DrainReasons.PatchDay14, DrainReasons.PatchDay21, DrainReasons.MaxLifetime, DrainReasons.MaintenanceEvent, DrainReasons.Manual,
        DrainReasons.Consolidation, DrainReasons.SpotInterruption, DrainReasons.ZoneFailure, DrainReasons.AgentDisconnect,
    ];
}
