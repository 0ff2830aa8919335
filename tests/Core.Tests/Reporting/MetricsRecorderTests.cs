using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;

namespace Scheduler.Core.Tests.Reporting;

public class MetricsRecorderTests
{
    private const long Minute = 60_000;
    private const long Day = 86_400_000;

    private static SimEvent Task(long ms, string id, string state, string health = TaskHealth.Unknown, string? instance = null, int cpu = 0, long memory = 0) => new()
    {
        TimeMs = ms, Kind = EventKinds.Task, Account = "a", Cluster = "c", Task = id, State = state,
        Health = health, Instance = instance, Cpu = cpu, MemoryMiB = memory,
    };

    private static SimEvent Instance(long ms, string id, string state, string? reason = null) => new()
    {
        TimeMs = ms, Kind = EventKinds.Instance, Account = "a", Cluster = "c", Instance = id, State = state, InstanceType = "m6i.large", Reason = reason,
    };

    private static (SummaryBuilder Summary, MetricsRecorder Metrics) New(TimeSpan? interval = null, int maxRows = MetricsRecorder.DefaultMaxRows)
    {
        var summary = new SummaryBuilder(InstanceTypeCatalog.Default);
        return (summary, new MetricsRecorder(summary, null, interval, maxRows));
    }

    private static void Feed(SummaryBuilder s, MetricsRecorder m, params SimEvent[] events)
    {
        foreach (var e in events)
        {
            s.Observe(e);
            m.Observe(e);
        }
    }

    private static double At(MetricsRecorder m, int row, string column) => m.Rows[row][m.Column(column)];

    [Fact]
    public void Rows_hold_levels_at_the_end_of_each_minute_and_counts_of_the_events_in_it()
    {
        var (s, m) = New();
        Feed(s, m,
            Instance(0, "i-1", InstanceStates.Launching),
            Task(0, "t-1", TaskStates.Provisioning, cpu: 1024, memory: 2048),
            Task(1_000, "t-1", TaskStates.Pending, instance: "i-1"),
            Task(30_000, "t-1", TaskStates.Running, instance: "i-1"),
            Task(70_000, "t-1", TaskStates.Running, TaskHealth.Healthy, "i-1"),
            Task(130_000, "t-1", TaskStates.Stopped, instance: "i-1"));
        m.Finish(180_000);

        Assert.Equal(3, m.Rows.Count);
        Assert.Equal([0, 60, 120], m.Rows.Select(r => r[0]));
        // Minute 0: created and running (not yet healthy) at its end; one launch.
        Assert.Equal(0, At(m, 0, "pending"));
        Assert.Equal(1, At(m, 0, "running"));
        Assert.Equal(0, At(m, 0, "healthy"));
        Assert.Equal(1, At(m, 0, "launches"));
        Assert.Equal(1, At(m, 0, "tasksCreated"));
        Assert.Equal(50.0, At(m, 0, "cpuReservedPercent"));
        Assert.Equal(25.0, At(m, 0, "memoryReservedPercent"));
        // Minute 1: healthy; the health change is not a second launch.
        Assert.Equal(1, At(m, 1, "healthy"));
        Assert.Equal(0, At(m, 1, "launches"));
        // Minute 2: stopped.
        Assert.Equal(0, At(m, 2, "running"));
        Assert.Equal(1, At(m, 2, "tasksStopped"));
        Assert.Equal(0, At(m, 2, "cpuReservedPercent"));
        Assert.Equal(1, At(m, 2, "instances"));
    }

    [Fact]
    public void Instances_fall_into_age_bands_by_their_launch_time()
    {
        var (s, m) = New(TimeSpan.FromDays(1));
        Feed(s, m,
            Instance(0, "i-old", InstanceStates.Launching),
            Instance(10 * Day, "i-mid", InstanceStates.Launching),
            Instance(20 * Day, "i-new", InstanceStates.Launching),
            Instance(24 * Day + Day / 2, "i-old", InstanceStates.Draining, "patch-day21"),
            Instance(26 * Day, "i-old", InstanceStates.Terminated));
        m.Finish(32 * Day);

        // Row of day 24 (levels at its end, 25 d): i-old 25 d, i-mid 15 d, i-new 5 d.
        Assert.Equal(1, At(m, 24, "age0_14d"));
        Assert.Equal(1, At(m, 24, "age14_21d"));
        Assert.Equal(1, At(m, 24, "age21_30d"));
        Assert.Equal(1, At(m, 24, "draining"));
        Assert.Equal(1, At(m, 24, "replacements"));
        // Day 31 (end 32 d): i-old gone, i-mid 22 d, i-new 12 d.
        Assert.Equal(1, At(m, 31, "age0_14d"));
        Assert.Equal(0, At(m, 31, "age14_21d"));
        Assert.Equal(1, At(m, 31, "age21_30d"));
        Assert.Equal(0, At(m, 31, "draining"));
        Assert.Equal(2, At(m, 31, "instances"));
    }

    [Fact]
    public void A_long_run_doubles_its_interval_to_stay_within_the_row_cap_and_keeps_every_count()
    {
        var (s, m) = New(maxRows: 100);
        var events = Enumerable.Range(0, 1_000).Select(k => Task(k * 30_000L, $"t-{k}", TaskStates.Provisioning)).ToArray();
        Feed(s, m, events);
        m.Finish(1_000 * 30_000L);

        Assert.True(m.Rows.Count <= 100, $"{m.Rows.Count} rows");
        Assert.Equal(8 * Minute, m.IntervalMs);
        Assert.Equal(1_000, m.Rows.Sum(r => r[m.Column("tasksCreated")]));
        Assert.Equal(1_000, m.Rows[^1][m.Column("pending")]);
        // Rows stay back to back at the new interval.
        Assert.All(m.Rows.Select((r, k) => (r, k)), x => Assert.Equal(x.k * 8 * 60.0, x.r[0]));
    }

    [Fact]
    public void A_fixed_interval_is_kept_however_many_rows_it_takes()
    {
        var (s, m) = New(TimeSpan.FromSeconds(10), maxRows: 10);
        Feed(s, m, Task(0, "t-1", TaskStates.Provisioning));
        m.Finish(1_000_000);
        Assert.Equal(100, m.Rows.Count);
        Assert.Equal(10_000, m.IntervalMs);
    }

    [Fact]
    public void Counts_sum_to_the_summary_whatever_the_interval_and_levels_match_a_replay()
    {
        // Random task lives: created, running, healthy, stopped at random times.
        var lives = Gen.Select(Gen.Long[0, 5 * Day], Gen.Long[1, Day], Gen.Long[1, Day], Gen.Long[1, 3 * Day]).Array[1, 40];
        Gen.Select(lives, Gen.Int[1, 600]).Sample((tasks, seconds) =>
        {
            var events = tasks.SelectMany((l, k) => new[]
            {
                Task(l.Item1, $"t-{k}", TaskStates.Provisioning),
                Task(l.Item1 + l.Item2, $"t-{k}", TaskStates.Running),
                Task(l.Item1 + l.Item2 + l.Item3, $"t-{k}", TaskStates.Running, TaskHealth.Healthy),
                Task(l.Item1 + l.Item2 + l.Item3 + l.Item4, $"t-{k}", TaskStates.Stopped),
            }).OrderBy(e => e.TimeMs).ToArray();
            var (s, m) = New(TimeSpan.FromSeconds(seconds), maxRows: int.MaxValue);
            Feed(s, m, events);
            var end = events[^1].TimeMs + 1;
            m.Finish(end);
            var summary = s.Build("x", 1, end, 1, 1);
            Assert.Equal(summary.TasksLaunched, (int)m.Rows.Sum(r => r[m.Column("launches")]));
            Assert.Equal(tasks.Length, (int)m.Rows.Sum(r => r[m.Column("tasksStopped")]));
            // Each row's running level is what the events up to its end say.
            var interval = seconds * 1000L;
            for (var k = 0; k < m.Rows.Count; k++)
            {
                var rowEnd = Math.Min((k + 1) * interval, end);
                var running = tasks.Count(l => l.Item1 + l.Item2 < rowEnd && l.Item1 + l.Item2 + l.Item3 + l.Item4 >= rowEnd);
                Assert.Equal(running, (int)m.Rows[k][m.Column("running")]);
            }
        }, iter: 200);
    }

    [Fact]
    public void The_csv_has_the_columns_and_one_line_per_row()
    {
        var (s, m) = New();
        Feed(s, m, Task(0, "t-1", TaskStates.Provisioning));
        m.Finish(5 * Minute);
        var writer = new StringWriter();
        m.WriteCsv(writer);
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(',', MetricsRecorder.BaseColumns), lines[0]);
        Assert.Equal(6, lines.Length);
        Assert.StartsWith("240,1,0,", lines[5]);
    }
}
