using System.Globalization;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;
using Spectre.Console;

namespace Scheduler.Client;

/// <summary>
/// The table printed when a run ends: the figures a scenario is usually about, in sections (run, tasks,
/// fleet, limits and errors, cost). Long values wrap inside their cell, so the table fits the terminal.
/// </summary>
public static class EndOfRunTable
{
    public static void Write(IAnsiConsole console, RunSummary s, string outDir)
    {
        var table = new Table().Title($"{Markup.Escape(s.Scenario)} (seed {s.Seed})")
            .AddColumn(new TableColumn("figure").NoWrap())
            .AddColumn(new TableColumn("value"));
        void Section(string name) => table.AddRow(new Markup($"[bold]{Markup.Escape(name)}[/]"), new Text(""));
        void Row(string name, string value) => table.AddRow(new Text(name), new Text(value));
        static string List<T>(IEnumerable<KeyValuePair<string, T>> items, Func<T, string> format) =>
            items.Any() ? string.Join(", ", items.Select(kv => $"{kv.Key} {format(kv.Value)}")) : "none";
        static string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);

        Section("run");
        Row("simulated", Duration.Format(TimeSpan.FromSeconds(s.SimulatedSeconds)));
        Row("wall seconds", s.WallSeconds.ToString("F2", CultureInfo.InvariantCulture));
        Row("ticks / events", $"{N(s.Ticks)} / {N(s.Events)} ({N(s.EventsPerWallSecond)} events per wall second)");
        Row("silos / run's activations per silo", $"{s.Silos} / {string.Join(", ", s.ActivationsPerSilo.Values.Select(v => N(v)))}");
        Row("cross-silo messages", N(s.CrossSiloMessages));
        if (s.Checkpoints > 0)
        {
            Row("checkpoints / grain writes", $"{N(s.Checkpoints)} in {s.CheckpointSeconds.ToString("F2", CultureInfo.InvariantCulture)} s / {N(s.CheckpointWrites)}");
        }
        if (s.Resumes > 0)
        {
            Row("resumed after a lost silo", $"{s.Resumes} time(s), stalled {s.StalledSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");
        }

        Section("tasks");
        Row("tasks launched / healthy", $"{N(s.TasksLaunched)} / {N(s.TasksHealthy)}");
        Row("last task healthy at", s.TasksHealthy == 0 ? "never" : $"{Duration.Format(TimeSpan.FromSeconds(s.LastHealthyAt))} ({s.LastHealthyAt.ToString("0.###", CultureInfo.InvariantCulture)} s)");
        Row("time to running p50 / p90 / p99 / max (s)", $"{s.TimeToRunning.P50} / {s.TimeToRunning.P90} / {s.TimeToRunning.P99} / {s.TimeToRunning.Max}");
        Row("launch rate", $"{s.LaunchRate.ToString("0.###", CultureInfo.InvariantCulture)} tasks/s");
        Row("placements by phase (1 / 2 / 3)", string.Join(" / ", s.PlacementsByPhase.Values.Select(v => N(v))));
        Row("unplaceable", N(s.Unplaceable));
        Row("stopped by reason", List(s.TasksStoppedByReason, v => N(v)));
        Row("oom kills", s.OomKills == 0 ? "0" : $"{N(s.OomKills)} ({List(s.OomKillsByScope, v => N(v))})");

        if (s.JobsByState.Count > 0)
        {
            Section("batch jobs");
            Row("jobs by state", List(s.JobsByState, v => N(v)));
            Row("job queue wait p50 / p90 / p99 / max (s)", $"{s.JobQueueWait.P50} / {s.JobQueueWait.P90} / {s.JobQueueWait.P99} / {s.JobQueueWait.Max}");
            var d = s.JobDrain;
            Row("job drain", $"{N(d.TasksStarted)} tasks started from {d.FirstStartAt} s to {d.LastStartAt} s: {N(d.BurstTasks)} in the first second, "
                + $"then {d.TasksPerSecond.ToString("0.#", CultureInfo.InvariantCulture)} tasks/s (median {N(d.MedianTasksPerSecond)} per second)");
        }

        Section("fleet");
        Row("instances launched", List(s.InstancesLaunched, v => $"x{N(v)}"));
        Row("replacements by reason", List(s.ReplacementsByReason, v => N(v)));
        Row("max instance age", $"{s.MaxInstanceAgeDays.ToString("0.###", CultureInfo.InvariantCulture)} days");
        Row("min healthy % during drains", s.MinHealthyPercentDuringDrains.Count == 0 ? "no service had tasks on a draining host"
            : $"lowest {s.MinHealthyPercentDuringDrains.Values.Min().ToString("0.#", CultureInfo.InvariantCulture)} % ({s.MinHealthyPercentDuringDrains.MinBy(kv => kv.Value).Key}; {N(s.MinHealthyPercentDuringDrains.Count)} service(s))");
        Row("reserved utilisation cpu / memory", $"{s.ReservedUtilisation.CpuPercent:N1} % / {s.ReservedUtilisation.MemoryPercent:N1} %");

        Section("limits and errors");
        Row("throttles by bucket", List(s.Throttles, v => N(v)));
        Row("tasks refused or held back by bucket", List(s.ThrottledTasks.Where(kv => kv.Value > 0), v => N(v)));
        Row("RunTask tasks refused", N(s.RunTaskTasksRefused));
        Row("API errors", List(s.ApiErrors, v => N(v)));

        Section("cost");
        Row("instance-hours", $"{s.InstanceHours:N1} h");
        Row("Fargate vCPU-hours / GB-hours", $"{s.FargateVcpuHours:N1} / {s.FargateGbHours:N1}");
        Row("cost", $"${s.Cost:N2}" + (s.CostByCapacityType.Count > 0 ? $" ({List(s.CostByCapacityType, v => $"${v:N2}")})" : ""));
        console.Write(table);
        console.MarkupLineInterpolated($"wrote {Path.Combine(outDir, "events.jsonl")}, summary.json, metrics.csv and report.html");
    }
}
