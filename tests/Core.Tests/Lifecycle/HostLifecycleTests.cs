using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Lifecycle;

/// <summary>An instance ageing by itself (pure <see cref="HostModel"/>): deadlines, unmanaged tasks, drains while launching.</summary>
public sealed class HostLifecycleTests
{
    private const long Day = 86_400_000L;
    private static readonly InstanceType Type = InstanceTypeCatalog.Default.Find("m5.2xlarge")!;
    private static readonly LaunchPipeline Pipeline = LaunchPipeline.Default;

    private static HostLifecyclePolicy Policy(MaintenanceWindow? window) => new()
    {
        Patch = PatchCycle.Default, Window = window, Seed = 1, TickMs = 1000,
    };

    private static TaskLaunch Unmanaged(string id, long? runTimeMs, long stopTimeoutMs = 30_000, bool loadBalancer = false) => new()
    {
        TaskId = id, StartedBy = "runTask", CapacityProvider = "mi", TaskDefinition = "batch:1", Group = "family:batch",
        Need = new Resources(256, 512, 0), RunTimeMs = runTimeMs, StopTimeoutMs = stopTimeoutMs, Awsvpc = true, LoadBalancer = loadBalancer,
    };

    /// <summary>Advances the host on 1 s ticks from due time to due time, like the cluster grain.</summary>
    private static List<SimEvent> Run(HostModel host, long untilMs)
    {
        var events = new List<SimEvent>();
        var updates = new List<TaskUpdate>();
        for (var i = 0; i < 100_000; i++)
        {
            var due = host.NextDueMs;
            if (due == long.MaxValue || due > untilMs)
            {
                break;
            }
            host.Advance((due + 999) / 1000 * 1000, Pipeline, events, updates);
        }
        return events;
    }

    [Fact]
    public void Unmanaged_tasks_run_to_completion_or_to_the_hard_limit_and_no_host_outlives_it()
    {
        var window = new MaintenanceWindow(DayOfWeek.Sunday, TimeSpan.FromHours(2), TimeSpan.FromHours(4));
        Gen.Select(Gen.Long[0, 40 * Day].Array[1, 8], Gen.Long[1_000, 120_000], Gen.Bool).Sample((runTimes, stopTimeout, withWindow) =>
        {
            var events = new List<SimEvent>();
            var host = HostModel.Launch("i-00001", "acme", "prod", "a", "mi", Type, "1.20.0", 0, preRegistered: false, events);
            host.StartLifecycle(Policy(withWindow ? window : null));
            Assert.Empty(host.Accept(0, runTimes.Select((r, i) => Unmanaged($"run-{i}", r, stopTimeout)).ToList(), Pipeline));
            events.AddRange(Run(host, 45 * Day));

            var hard = 30 * Day;
            var terminated = Assert.Single(events, e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Terminated);
            Assert.True(terminated.TimeMs <= hard, $"terminated at {terminated.TimeMs}");
            Assert.Empty(host.Tasks);
            foreach (var task in events.Where(e => e.Kind == EventKinds.Task).GroupBy(e => e.Task))
            {
                var stopped = Assert.Single(task, e => e.State == TaskStates.Stopped);
                Assert.True(stopped.TimeMs <= terminated.TimeMs);
                if (stopped.Reason != StopReasons.EssentialExited)
                {
                    // Stopped only for the hard limit, and only within the last stretch before it.
                    Assert.Equal(StopReasons.InstanceTerminated(DrainReasons.MaxLifetime), stopped.Reason);
                    var sigterm = task.First(e => e.State == TaskStates.Deactivating);
                    Assert.True(sigterm.TimeMs >= hard - 5 * 60_000, $"{task.Key} stopped at {sigterm.TimeMs}");
                }
            }
            // The host drained for the patch cycle first (day 21: nobody granted the in-window replacement).
            var draining = Assert.Single(events, e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Draining);
            Assert.Equal(21 * Day, draining.TimeMs);
            Assert.Equal(DrainReasons.PatchDay21, draining.Reason);
        }, iter: 300);
    }

    [Fact]
    public void A_day_14_replacement_is_asked_for_inside_the_window_and_lapses_when_it_closes()
    {
        // Calendar start Monday; Sunday 02:00-06:00 windows open on days 6, 13, 20, ...
        var window = new MaintenanceWindow(DayOfWeek.Sunday, TimeSpan.FromHours(2), TimeSpan.FromHours(4));
        var host = HostModel.Launch("i-00001", "acme", "prod", "a", "mi", Type, "1.20.0", 0, preRegistered: true, []);
        host.StartLifecycle(Policy(window));
        Run(host, 20 * Day + 2 * 3_600_000);
        Assert.Equal(DrainReasons.PatchDay14, host.WantsDrain);
        Assert.Equal(InstanceStates.Active, host.Status);
        Run(host, 20 * Day + 6 * 3_600_000);
        Assert.Null(host.WantsDrain);
        // Not granted: the next look is day 21, when it drains anyway.
        Assert.Equal(21 * Day, host.NextDueMs);
    }

    [Fact]
    public void A_host_set_draining_while_launching_still_registers_and_then_terminates_once_empty()
    {
        var events = new List<SimEvent>();
        var host = HostModel.Launch("i-00001", "acme", "prod", "a", "mi", Type, "1.20.0", 0, preRegistered: false, events);
        host.Accept(0, [Unmanaged("run-1", 60_000)], Pipeline);
        Assert.True(host.BeginDrain(1_000, DrainReasons.Manual, events));
        Assert.Empty(host.Accept(1_000, [Unmanaged("run-2", 60_000)], Pipeline).Except(["run-2"]));
        events.AddRange(Run(host, Day));
        Assert.True(host.IsRegistered);
        Assert.Equal(InstanceStates.Terminated, host.Status);
        Assert.Contains(events, e => e.Task == "run-1" && e.State == TaskStates.Running);
        Assert.Equal(StopReasons.EssentialExited, events.Single(e => e.Task == "run-1" && e.State == TaskStates.Stopped).Reason);
        Assert.Equal(DrainReasons.Manual, events.Single(e => e.State == InstanceStates.Terminated).Reason);
    }

    [Fact]
    public void A_task_stopped_before_it_registered_with_the_load_balancer_skips_deregistration()
    {
        var events = new List<SimEvent>();
        var host = HostModel.Launch("i-00001", "acme", "prod", "a", "mi", Type, "1.20.0", 0, preRegistered: false, events);
        host.Accept(0, [Unmanaged("run-1", null, loadBalancer: true)], Pipeline);
        host.RequestStop(1_000, ["run-1"], StopReasons.ScalingIn);
        host.Advance(1_000, Pipeline, events, []);
        // SIGTERM follows at once: no deregistration delay for a target that was never registered.
        Assert.Equal(1_000, events.Single(e => e.State == TaskStates.Deactivating).TimeMs);
        Assert.Equal(1_000, events.Single(e => e.State == TaskStates.Stopping).TimeMs);
    }

    [Fact]
    public void A_spot_interruption_reclaims_the_host_two_minutes_after_the_warning()
    {
        var events = new List<SimEvent>();
        var host = HostModel.Launch("i-00001", "acme", "prod", "a", "spot", Type, "1.20.0", 0, preRegistered: true, events);
        host.StartLifecycle(HostLifecyclePolicy.None);
        host.Accept(0, [Unmanaged("run-1", null, stopTimeoutMs: 30_000)], Pipeline);
        host.SpotInterruptionAtMs = 3_600_000;
        events.AddRange(Run(host, Day));
        Assert.Equal(DrainReasons.SpotInterruption, events.Single(e => e.State == InstanceStates.Draining).Reason);
        var terminated = events.Single(e => e.State == InstanceStates.Terminated);
        Assert.InRange(terminated.TimeMs, 3_600_000, 3_600_000 + HostLifecyclePolicy.SpotWarningMs);
        Assert.Equal(StopReasons.InstanceTerminated(DrainReasons.SpotInterruption), events.Single(e => e.State == TaskStates.Stopped).Reason);
    }

    [Fact]
    public void Random_maintenance_events_and_spot_interruptions_are_drawn_per_host_and_repeatable()
    {
        var policy = Policy(null) with { MaintenanceEventRate = 3, SpotInterruptionRate = 0.2 };
        var times = Enumerable.Range(0, 500).Select(i => policy.MaintenanceEventMs($"i-{i:D5}", 0)).ToList();
        Assert.Equal(times, Enumerable.Range(0, 500).Select(i => policy.MaintenanceEventMs($"i-{i:D5}", 0)));
        // 3 per 30 days: a mean near 10 days.
        Assert.InRange(times.Average() / Day, 8, 12);
        Assert.Equal(long.MaxValue, Policy(null).SpotInterruptionMs("i-00001", 0));
    }
}
