using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Lifecycle;

/// <summary>Hard limits, Spot warnings and stop grace periods on a pure <see cref="HostModel"/>.</summary>
public sealed class HostFidelityTests
{
    private const long Day = 86_400_000L;
    private static readonly InstanceType Type = InstanceTypeCatalog.Default.Find("m5.2xlarge")!;

    private static TaskLaunch Task(string id, long? runTimeMs, string? service = null, long stopTimeoutMs = 90_000,
        IReadOnlyList<long?>? exits = null, bool loadBalancer = false) => new()
    {
        TaskId = id, Service = service, StartedBy = service is null ? "runTask" : $"ecs-svc/{service}", CapacityProvider = "mi",
        TaskDefinition = "app:1", Group = service ?? "family:app", Need = new Resources(256, 512, 0), RunTimeMs = runTimeMs,
        StopTimeoutMs = stopTimeoutMs, Awsvpc = true, LoadBalancer = loadBalancer, ContainerExitMs = exits ?? [],
    };

    /// <summary>Advances the host on 1 s ticks from due time to due time, like the cluster grain.</summary>
    private static List<SimEvent> Run(HostModel host, long untilMs, LaunchPipeline pipeline)
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
            host.Advance((due + 999) / 1000 * 1000, pipeline, events, updates);
        }
        return events;
    }

    private static HostModel Host(HostLifecyclePolicy policy, LaunchPipeline pipeline, List<SimEvent> events)
    {
        var host = HostModel.Launch("i-00001", "acme", "prod", "a", "mi", Type, "1.20.0", 0, preRegistered: true, events);
        host.StartLifecycle(policy, pipeline);
        return host;
    }

    [Fact]
    public void A_35_day_standalone_task_ends_the_host_at_its_hard_limit_with_max_lifetime()
    {
        var events = new List<SimEvent>();
        var host = Host(new HostLifecyclePolicy { Patch = PatchCycle.Default, Seed = 1, TickMs = 1000 }, LaunchPipeline.Default, events);
        Assert.Empty(host.Accept(0, [Task("run-1", 35 * Day)], LaunchPipeline.Default));
        events.AddRange(Run(host, 40 * Day, LaunchPipeline.Default));

        Assert.Equal(DrainReasons.PatchDay21, Assert.Single(events, e => e.State == InstanceStates.Draining).Reason);
        var terminated = Assert.Single(events, e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Terminated);
        Assert.Equal(DrainReasons.MaxLifetime, terminated.Reason);
        Assert.InRange(terminated.TimeMs, 30 * Day - 60_000, 30 * Day);
        var stopped = Assert.Single(events, e => e.Kind == EventKinds.Task && e.State == TaskStates.Stopped);
        Assert.Equal(StopReasons.InstanceTerminated(DrainReasons.MaxLifetime), stopped.Reason);
    }

    [Fact]
    public void The_hard_limit_leaves_room_for_the_scenarios_own_stop_path()
    {
        // A scenario that makes deregistration and detach slow: the forced stop must start early enough for them.
        var slow = LaunchPipeline.Default with
        {
            LoadBalancerDeregistration = TimeSpan.FromSeconds(300), EniDetach = TimeSpan.FromSeconds(200),
        };
        var events = new List<SimEvent>();
        var host = Host(new HostLifecyclePolicy { Patch = PatchCycle.Default, Seed = 1, TickMs = 1000 }, slow, events);
        Assert.Empty(host.Accept(0, [Task("run-1", 35 * Day, stopTimeoutMs: 30_000, loadBalancer: true)], slow));

        Assert.Equal(30 * Day - (300_000 + 2_000 + 200_000 + 4_000), host.DeadlineStopAtMs);
        events.AddRange(Run(host, 40 * Day, slow));
        var stopped = Assert.Single(events, e => e.Kind == EventKinds.Task && e.State == TaskStates.Stopped);
        Assert.Equal(StopReasons.InstanceTerminated(DrainReasons.MaxLifetime), stopped.Reason);
        Assert.True(stopped.TimeMs <= 30 * Day, $"stopped at {stopped.TimeMs}, after the hard limit");
    }

    [Fact]
    public void A_Spot_host_is_reclaimed_two_minutes_after_its_warning_and_its_tasks_get_SIGTERM_as_late_as_their_exit_allows()
    {
        var warning = 3_600_000L;
        var events = new List<SimEvent>();
        var host = Host(new HostLifecyclePolicy { Seed = 1, TickMs = 1000 }, LaunchPipeline.Default, events);
        // The containers exit 2 s after SIGTERM although stopTimeout allows 90 s.
        Assert.Empty(host.Accept(0, [Task("run-1", null, stopTimeoutMs: 90_000, exits: [2_000])], LaunchPipeline.Default));
        events.AddRange(Run(host, warning - 1, LaunchPipeline.Default));
        host.SpotInterruptionAtMs = warning;
        events.AddRange(Run(host, warning + 10 * 60_000, LaunchPipeline.Default));

        var draining = Assert.Single(events, e => e.State == InstanceStates.Draining);
        Assert.Equal((warning, DrainReasons.SpotInterruption), (draining.TimeMs, draining.Reason));
        var terminated = Assert.Single(events, e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Terminated);
        Assert.Equal((warning + HostLifecyclePolicy.SpotWarningMs, DrainReasons.SpotInterruption), (terminated.TimeMs, terminated.Reason));
        var sigterm = Assert.Single(events, e => e.Kind == EventKinds.Task && e.State == TaskStates.Deactivating);
        // SIGTERM leaves the task's own stop path (2 s exit, 2 s detach) and a few ticks, not 90 s.
        Assert.InRange(sigterm.TimeMs, warning + 100_000, warning + 116_000);
        Assert.True(events.Single(e => e.Kind == EventKinds.Task && e.State == TaskStates.Stopped).TimeMs <= terminated.TimeMs);
    }

    [Fact]
    public void The_stop_grace_period_is_the_slowest_containers_exit_cut_at_stopTimeout()
    {
        var pipeline = LaunchPipeline.Default;
        Assert.Equal(2_000, Task("t", null, stopTimeoutMs: 90_000).StopGraceMs(pipeline));
        Assert.Equal(45_000, Task("t", null, stopTimeoutMs: 90_000, exits: [45_000, null]).StopGraceMs(pipeline));
        Assert.Equal(30_000, Task("t", null, stopTimeoutMs: 30_000, exits: [45_000]).StopGraceMs(pipeline));
        Assert.Equal(2_000, Task("t", null, stopTimeoutMs: 90_000, exits: [500, null]).StopGraceMs(pipeline));

        // On a host: SIGTERM (DEACTIVATING, STOPPING) to DEPROVISIONING takes the grace period.
        var events = new List<SimEvent>();
        var host = Host(HostLifecyclePolicy.None, pipeline, events);
        Assert.Empty(host.Accept(0, [Task("slow", null, "web", stopTimeoutMs: 90_000, exits: [45_000])], pipeline));
        events.AddRange(Run(host, 600_000, pipeline));
        host.RequestStop(600_000, ["slow"], StopReasons.ScalingIn);
        events.AddRange(Run(host, 900_000, pipeline));
        var stopping = events.Single(e => e.State == TaskStates.Stopping).TimeMs;
        var deprovisioning = events.Single(e => e.State == TaskStates.Deprovisioning).TimeMs;
        Assert.Equal(45_000, deprovisioning - stopping);
    }

    [Fact]
    public void Fargate_Spot_tasks_are_interrupted_at_their_rate_and_stop_with_the_Spot_reason()
    {
        var policy = new HostLifecyclePolicy { SpotInterruptionRate = 24, Seed = 7, TickMs = 1000 };   // about one an hour per task
        var pool = HostModel.FargatePool("fargate-spot-a", "acme", "prod", "a", "spot");
        pool.StartLifecycle(policy, LaunchPipeline.Default);
        var tasks = Enumerable.Range(0, 20).Select(k => Task($"s-{k:D2}", null, "web") with { CapacityProvider = "spot" }).ToList();
        Assert.Empty(pool.Accept(0, tasks, LaunchPipeline.Default));
        var events = Run(pool, 2 * 3_600_000, LaunchPipeline.Default);

        var stopped = events.Where(e => e.Kind == EventKinds.Task && e.State == TaskStates.Stopped).ToList();
        // 20 tasks at one interruption an hour each, over two hours: all but about 20 × e^-2 ≈ 3 are interrupted.
        Assert.InRange(stopped.Count, 12, 20);
        Assert.All(stopped, e => Assert.Equal(StopReasons.SpotTaskInterrupted, e.Reason));
        // The same seed gives the same interruptions.
        var again = HostModel.FargatePool("fargate-spot-a", "acme", "prod", "a", "spot");
        again.StartLifecycle(policy, LaunchPipeline.Default);
        Assert.Empty(again.Accept(0, tasks, LaunchPipeline.Default));
        Assert.Equal(events.Select(e => (e.TimeMs, e.Task, e.State)), Run(again, 2 * 3_600_000, LaunchPipeline.Default).Select(e => (e.TimeMs, e.Task, e.State)));
    }

    [Fact]
    public void On_Demand_Fargate_tasks_are_never_interrupted()
    {
        var pool = HostModel.FargatePool("fargate-a", "acme", "prod", "a", "fargate");
        pool.StartLifecycle(new HostLifecyclePolicy { Seed = 7 }, LaunchPipeline.Default);
        Assert.Empty(pool.Accept(0, Enumerable.Range(0, 20).Select(k => Task($"f-{k:D2}", null, "web")).ToList(), LaunchPipeline.Default));
        Assert.DoesNotContain(Run(pool, 2 * 3_600_000, LaunchPipeline.Default), e => e.State == TaskStates.Stopped);
    }
}
