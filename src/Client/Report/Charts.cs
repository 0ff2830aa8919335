using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;
using ScottPlot;

namespace Scheduler.Client.Report;

/// <summary>The report's charts, drawn by ScottPlot and returned as SVG elements.</summary>
internal static class Charts
{
    public static IEnumerable<(string Id, string Caption, string Svg)> Render(RunSummary s, MetricsRecorder m, IReadOnlyList<long> timeToRunningMs, int width, int height)
    {
        var (unit, perUnit) = TimeAxis(s.SimulatedSeconds);
        var period = m.IntervalMs / 1000.0 / perUnit;
        var interval = Duration.Format(TimeSpan.FromMilliseconds(m.IntervalMs));

        yield return ("chart-tasks", "Tasks over time: waiting for placement or start (pending), RUNNING, and RUNNING and HEALTHY.",
            Lines(m, period, unit, "tasks", ["pending", "running", "healthy"], width, height, "Tasks"));
        yield return ("chart-instance-ages", "Container instances by age (days since launch), and those DRAINING.",
            Lines(m, period, unit, "instances", ["age0_14d", "age14_21d", "age21_30d", "age30dPlus", "draining"], width, height, "Instances by age"));
        yield return ("chart-utilisation", "Reserved share of the registered cpu and memory of container instances (EXTERNAL hosts included).",
            Lines(m, period, unit, "percent", ["cpuReservedPercent", "memoryReservedPercent"], width, height, "Reserved utilisation"));
        yield return ("chart-launches", $"Tasks that reached RUNNING, throttled requests and the tasks they refused or held back, per {interval}.",
            Lines(m, period, unit, $"per {interval}", ["launches", "throttled", "throttledTasks"], width, height, $"Launches and throttles per {interval}"));
        yield return ("chart-time-to-running", "Distribution of the time from a task's creation to its first RUNNING.",
            TimeToRunning(timeToRunningMs, width, height));
        yield return ("chart-placements", "Tasks placed by each placement phase: 1 existing capacity, 2 new capacity, 3 bin-packing.",
            Bars([.. s.PlacementsByPhase.Keys.Select(k => $"phase {k}")], [.. s.PlacementsByPhase.Values.Select(v => (double)v)], "tasks", width, height, "Placements per phase"));
        yield return ("chart-replacements", "Container instances drained for replacement, by reason.",
            Bars(RunReport.ReplacementReasons, [.. RunReport.ReplacementReasons.Select(r => (double)s.ReplacementsByReason.GetValueOrDefault(r))], "instances", width, height, "Replacements by reason"));
        var byType = m.Columns.Where(c => c.StartsWith("running_", StringComparison.Ordinal)).ToArray();
        if (byType.Length > 1)
        {
            yield return ("chart-capacity-types", "RUNNING tasks by capacity type.",
                Lines(m, period, unit, "tasks", byType, width, height, "Running tasks by capacity type"));
        }
    }

    /// <summary>Simulated time in the unit that suits the run's length.</summary>
    private static (string Unit, double SecondsPerUnit) TimeAxis(double seconds) =>
        seconds <= 7_200 ? ("minutes", 60) : seconds <= 3 * 86_400 ? ("hours", 3_600) : ("days", 86_400);

    private static Plot New(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    private static string Lines(MetricsRecorder m, double period, string unit, string yLabel, string[] columns, int width, int height, string title)
    {
        var plot = New(title, $"simulated {unit}", yLabel);
        foreach (var column in columns)
        {
            var c = m.Column(column);
            var ys = m.Rows.Select(r => r[c]).ToArray();
            if (ys.Length == 0)
            {
                ys = [0];
            }
            // A signal plot draws one vertical span per pixel column, so 50,000 rows cost what 1,000 do.
            var signal = plot.Add.Signal(ys, period);
            signal.LegendText = column;
            signal.LineWidth = 1.5f;
        }
        plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.Margins(bottom: 0);
        return plot.GetSvgXml(width, height);
    }

    private static string TimeToRunning(IReadOnlyList<long> ms, int width, int height)
    {
        var plot = New("Time to running", "seconds from creation to RUNNING", "tasks");
        var seconds = ms.Select(v => v / 1000.0).ToArray();
        const int bins = 40;
        var max = seconds.Length == 0 ? 1 : Math.Max(1, seconds.Max());
        var size = max / bins;
        var counts = new double[bins];
        foreach (var v in seconds)
        {
            counts[Math.Min(bins - 1, (int)(v / size))]++;
        }
        var bars = Enumerable.Range(0, bins).Select(k => new Bar { Position = (k + 0.5) * size, Value = counts[k], Size = size * 0.9 }).ToList();
        plot.Add.Bars(bars);
        plot.Axes.Margins(bottom: 0);
        return plot.GetSvgXml(width, height);
    }

    private static string Bars(string[] labels, double[] values, string yLabel, int width, int height, string title)
    {
        var plot = New(title, "", yLabel);
        var bars = values.Select((v, k) => new Bar { Position = k, Value = v, Label = v.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) }).ToList();
        var plottable = plot.Add.Bars(bars);
        plottable.ValueLabelStyle.FontSize = 12;
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, labels.Length).Select(k => (double)k)], labels);
        plot.Axes.Bottom.TickLabelStyle.Rotation = labels.Length > 4 ? -30 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = labels.Length > 4 ? Alignment.MiddleRight : Alignment.UpperCenter;
        plot.Axes.Margins(bottom: 0);
        return plot.GetSvgXml(width, height);
    }
}
