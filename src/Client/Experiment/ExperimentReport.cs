using System.Globalization;
using System.Net;
using System.Text;
using Scheduler.Core.Placement.Sharding;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;
using ScottPlot;
using Spectre.Console;

namespace Scheduler.Client.Experiment;

/// <summary>One run of an experiment.</summary>
public sealed record ExperimentRow(ExperimentPoint Point, RunSummary Summary);

/// <summary>experiment.csv, experiment.html and the printed table.</summary>
public static class ExperimentReport
{
    private const int Width = 960, Height = 360;

    /// <summary>The columns of experiment.csv, in order.</summary>
    public static readonly IReadOnlyList<string> Columns =
    [
        "run", "shards", "mode", "conflict", "decisionTime", "tasksLaunched", "placementAttempts", "placementConflicts", "placementRetries",
        "conflictFraction", "unplaceable", "instancesLaunched", "reservedCpuPercent", "reservedMemoryPercent", "zoneSkew",
        "timeToRunningP50", "timeToRunningP90", "timeToRunningP99", "timeToRunningMax", "crossSiloMessages", "wallSeconds",
        "wallVsMonolithic", "placedByShard",
    ];

    private static string F(double v, string format = "0.###") => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The first run with one monolithic scheduler: what the others are compared with.</summary>
    private static RunSummary? Baseline(IReadOnlyList<ExperimentRow> rows) =>
        rows.FirstOrDefault(r => r.Point.Spec.IsDefault)?.Summary;

    private static string[] Values(ExperimentRow r, RunSummary? baseline)
    {
        var s = r.Summary;
        var attempts = s.PlacementsByPhase.Values.Sum() + s.PlacementConflicts;
        return
        [
            r.Point.Label, r.Point.Spec.Shards.ToString(CultureInfo.InvariantCulture), r.Point.ModeName, r.Point.ConflictName, r.Point.DecisionTime,
            s.TasksLaunched.ToString(CultureInfo.InvariantCulture), attempts.ToString(CultureInfo.InvariantCulture),
            s.PlacementConflicts.ToString(CultureInfo.InvariantCulture), s.PlacementRetries.ToString(CultureInfo.InvariantCulture),
            F(s.ConflictFraction, "0.0000"), s.Unplaceable.ToString(CultureInfo.InvariantCulture),
            s.InstancesLaunched.Values.Sum().ToString(CultureInfo.InvariantCulture),
            F(s.ReservedUtilisation.CpuPercent, "0.0"), F(s.ReservedUtilisation.MemoryPercent, "0.0"), s.ZoneSkew.ToString(CultureInfo.InvariantCulture),
            F(s.TimeToRunning.P50), F(s.TimeToRunning.P90), F(s.TimeToRunning.P99), F(s.TimeToRunning.Max),
            s.CrossSiloMessages.ToString(CultureInfo.InvariantCulture), F(s.WallSeconds, "0.00"),
            baseline is { WallSeconds: > 0 } ? F(s.WallSeconds / baseline.WallSeconds, "0.00") : "",
            string.Join(" ", s.PlacedByShard.Select(kv => $"{kv.Key}:{kv.Value}")),
        ];
    }

    public static string Csv(IReadOnlyList<ExperimentRow> rows)
    {
        var baseline = Baseline(rows);
        var csv = new StringBuilder();
        csv.Append(string.Join(',', Columns)).Append('\n');
        foreach (var r in rows)
        {
            // No value holds a comma or a quote (labels, numbers, "0:12 1:30").
            csv.Append(string.Join(',', Values(r, baseline))).Append('\n');
        }
        return csv.ToString();
    }

    /// <summary>The columns the printed table shows (the CSV has them all), with their short headings.</summary>
    private static readonly (string Column, string Heading)[] Printed =
    [
        ("shards", "K"), ("mode", "mode"), ("conflict", "conflict"), ("decisionTime", "decision"), ("placementConflicts", "conflicts"),
        ("conflictFraction", "fraction"), ("placementRetries", "retries"), ("instancesLaunched", "instances"), ("reservedCpuPercent", "cpu %"),
        ("zoneSkew", "skew"), ("timeToRunningP50", "ttr p50"), ("timeToRunningP90", "p90"), ("timeToRunningP99", "p99"),
        ("crossSiloMessages", "x-silo msgs"), ("wallSeconds", "wall s"), ("wallVsMonolithic", "wall ×"),
    ];

    public static void Table(IAnsiConsole console, IReadOnlyList<ExperimentRow> rows)
    {
        var baseline = Baseline(rows);
        var table = new Table().Title("experiment");
        foreach (var (_, heading) in Printed)
        {
            table.AddColumn(new TableColumn(Markup.Escape(heading)).RightAligned().NoWrap());
        }
        var index = Printed.Select(c => Columns.ToList().IndexOf(c.Column)).ToArray();
        foreach (var r in rows)
        {
            var v = Values(r, baseline);
            table.AddRow(index.Select(i => Markup.Escape(v[i])).ToArray());
        }
        console.Write(table);
    }

    /// <summary>The page: what was run, the curves, and the table.</summary>
    public static string Html(Scenario scenario, IReadOnlyList<ExperimentRow> rows)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var baseline = Baseline(rows);
        var html = new StringBuilder(1 << 18);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append($"<title>{E(scenario.Name)} — placement experiment</title>\n");
        html.Append("""
            <style>
            body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
            h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
            table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.85em; }
            td, th { border: 1px solid #ddd; padding: 0.2em 0.5em; text-align: right; }
            figure.chart svg { max-width: 100%; height: auto; } figcaption { font-size: 0.9em; color: #555; }
            </style>
            </head>
            <body>

            """);
        html.Append($"<h1>{E(scenario.Name)} <small>(seed {scenario.Seed})</small>: {rows.Count} runs</h1>\n");
        html.Append("<p>Each run gives every cluster of the scenario the placement of its row. Conflict fraction: claims refused at commit over all claims. " +
                    "Time to running: from a task's creation to its first RUNNING, in simulated seconds.</p>\n");
        foreach (var (id, caption, svg) in Charts(rows))
        {
            html.Append($"<figure class=\"chart\" id=\"{id}\">{svg}<figcaption>{E(caption)}</figcaption></figure>\n");
        }
        html.Append("<h2>Runs</h2>\n<table id=\"runs\"><tr>");
        foreach (var c in Columns)
        {
            html.Append($"<th>{E(c)}</th>");
        }
        html.Append("</tr>\n");
        foreach (var r in rows)
        {
            html.Append("<tr>");
            foreach (var v in Values(r, baseline))
            {
                html.Append($"<td>{E(v)}</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</table>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>The chart ids of experiment.html.</summary>
    public static readonly IReadOnlyList<string> ChartIds = ["chart-conflicts-by-shards", "chart-conflicts-by-decision-time", "chart-p90-by-shards", "chart-wall-by-shards"];

    private static IEnumerable<(string Id, string Caption, string Svg)> Charts(IReadOnlyList<ExperimentRow> rows)
    {
        var shared = rows.Where(r => r.Point.Spec.Mode == ShardingMode.SharedState).ToList();
        yield return (ChartIds[0], "Conflict fraction of shared-state schedulers against the number of shards, one line per conflict detection and decision time.",
            Lines("Conflict fraction against shards", "shards", "conflict fraction",
                shared.GroupBy(r => $"{r.Point.ConflictName}, d={r.Point.DecisionTime}"),
                r => r.Point.Spec.Shards, r => r.Summary.ConflictFraction));
        yield return (ChartIds[1], "Conflict fraction of shared-state schedulers against the decision time (seconds), one line per shard count and conflict detection.",
            Lines("Conflict fraction against decision time", "decision time (s)", "conflict fraction",
                shared.GroupBy(r => $"k={r.Point.Spec.Shards}, {r.Point.ConflictName}"),
                r => r.Point.Spec.DecisionTimeMs / 1000.0, r => r.Summary.ConflictFraction));
        var byMode = rows.GroupBy(r => r.Point.Spec.Mode == ShardingMode.SharedState
            ? $"{r.Point.ModeName} {r.Point.ConflictName}, d={r.Point.DecisionTime}" : $"{r.Point.ModeName}, d={r.Point.DecisionTime}").ToList();
        yield return (ChartIds[2], "Time to running (90th percentile, simulated seconds) against the number of shards, one line per mode and decision time.",
            Lines("Time to running p90 against shards", "shards", "seconds", byMode, r => r.Point.Spec.Shards, r => r.Summary.TimeToRunning.P90));
        yield return (ChartIds[3], "Wall seconds per run against the number of shards: the cost of running K schedulers.",
            Lines("Wall time against shards", "shards", "wall seconds", byMode, r => r.Point.Spec.Shards, r => r.Summary.WallSeconds));
    }

    private static string Lines(string title, string xLabel, string yLabel, IEnumerable<IGrouping<string, ExperimentRow>> series,
        Func<ExperimentRow, double> x, Func<ExperimentRow, double> y)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        var any = false;
        foreach (var s in series)
        {
            var points = s.OrderBy(x).ToList();
            var line = plot.Add.Scatter(points.Select(x).ToArray(), points.Select(y).ToArray());
            line.LegendText = s.Key;
            line.LineWidth = 1.5f;
            line.MarkerSize = 6;
            any = true;
        }
        if (any)
        {
            plot.ShowLegend(Alignment.UpperLeft);
        }
        return plot.GetSvgXml(Width, Height);
    }
}
