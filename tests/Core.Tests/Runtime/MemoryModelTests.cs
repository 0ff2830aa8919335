using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.Runtime;

namespace Scheduler.Core.Tests.Runtime;

/// <summary>Usage models, heap sizing and the container OOM kill, on the pure host model.</summary>
public sealed class MemoryModelTests
{
    private const long Interval = 60_000;
    private static readonly LaunchPipeline Pipeline = LaunchPipeline.Default;

    [Theory]
    [InlineData(512.0, 512.0)]       // 75 % = 384, below the 512 minimum: the heap may fill the whole container
    [InlineData(2048.0, 1536.0)]     // 75 %
    [InlineData(16384.0, 8192.0)]    // 75 % = 12288, above the 8 GiB maximum
    [InlineData(null, 768.0)]        // no visible limit: 75 % of the 1 GiB fallback
    public void Heap_sizing_follows_the_seed_recipe(double? visible, double heap) =>
        Assert.Equal(heap, new HeapSizing().HeapMiB(visible));

    [Fact]
    public void Heap_sizing_is_the_clamped_percentage_for_any_limit()
    {
        Gen.Select(Gen.Double[1, 100], Gen.Double[0, 4096], Gen.Double[0, 16384], Gen.Double[1, 65536]).Sample((pct, min, span, limit) =>
        {
            var h = new HeapSizing { Percent = pct, MinMiB = min, MaxMiB = min + span };
            var heap = h.HeapMiB(limit);
            Assert.InRange(heap, h.MinMiB, h.MaxMiB);
            var raw = Math.Floor(limit * pct / 100);
            if (raw >= h.MinMiB && raw <= h.MaxMiB)
            {
                Assert.Equal(raw, heap);
            }
        });
    }

    private static Gen<MemoryUsageModel> Models => Gen.Select(
            Gen.Double[0, 2000], Gen.Double[0, 200], Gen.OneOf(Gen.Const(0.0), Gen.Double[0, 200]),
            Gen.OneOf(Gen.Const(0L), Gen.Long[120_000, 7_200_000]), Gen.Double[0, 500], Gen.OneOf(Gen.Const((double?)null), Gen.Double[64, 2048].Select(d => (double?)d)),
            Gen.Double[0, 200])
        .Select((mean, sd, leak, every, extra, heap, overhead) => new MemoryUsageModel
        {
            MeanMiB = mean, StddevMiB = sd, LeakMiBPerHour = leak, SpikeEveryMs = every, SpikeLengthMs = every / 10, SpikeExtraMiB = every > 0 ? extra : 0,
            HeapMiB = heap, OverheadMiB = heap is null ? 0 : overhead,
        });

    [Fact]
    public void Use_never_exceeds_the_upper_bound_and_the_bound_never_shrinks()
    {
        Gen.Select(Models, Gen.Long[0, 30L * 86_400_000], Gen.Long[0, 1_000_000], Gen.Long[1, 1000]).Sample((m, since, sample, later) =>
        {
            var use = m.UseMiB(7, "t/app", sample, since, Interval);
            Assert.InRange(use, 0, m.UpperBound(since) + 1e-9);
            Assert.True(m.UpperBound(since) <= m.UpperBound(since + later * 1000) + 1e-9);
            if (m.HeapMiB is { } heap)
            {
                Assert.True(use <= heap + m.OverheadMiB + 1e-9);
            }
        });
    }

    [Fact]
    public void A_constant_model_is_constant_and_a_pure_ramp_is_linear()
    {
        var constant = new MemoryUsageModel { MeanMiB = 300 };
        Assert.All(Enumerable.Range(0, 50), k => Assert.Equal(300, constant.UseMiB(1, "t/app", k, k * Interval, Interval)));
        var ramp = new MemoryUsageModel { MeanMiB = 100, LeakMiBPerHour = 60 };
        Assert.Equal(160, ramp.UseMiB(1, "t/app", 0, 3_600_000, Interval), 9);
        Assert.Equal(340, ramp.UseMiB(1, "t/app", 9, 4 * 3_600_000, Interval), 9);
    }

    private static TaskLaunch Task(string id, MemoryUsageModel model, double? limit, double reserved = 256) => new()
    {
        TaskId = id, StartedBy = "runTask", CapacityProvider = "fargate", TaskDefinition = "app:1", Group = "family:app",
        Need = new Resources(256, (long)reserved, 0), Seed = 11,
        Containers = [new ContainerRuntime { Name = "app", HardLimitMiB = limit, ReservedMiB = reserved, Memory = model }],
    };

    /// <summary>Advances a host from due time to due time (1 s ticks), like the cluster grain; returns its events and how many times it was due.</summary>
    internal static (List<SimEvent> Events, List<TaskUpdate> Updates, int Calls) Run(HostModel host, long untilMs)
    {
        var events = new List<SimEvent>();
        var updates = new List<TaskUpdate>();
        var calls = 0;
        for (; calls < 200_000; calls++)
        {
            var due = host.NextDueMs;
            if (due == long.MaxValue || due > untilMs)
            {
                break;
            }
            host.Advance((due + 999) / 1000 * 1000, Pipeline, events, updates);
        }
        return (events, updates, calls);
    }

    [Fact]
    public void A_container_is_oom_killed_exactly_at_the_first_sample_above_its_hard_limit()
    {
        const long horizon = 3L * 86_400_000;
        Gen.Select(Models, Gen.Double[64, 4096]).Sample((model, limit) =>
        {
            var host = HostModel.FargatePool("fargate-a", "acme", "prod", "a", "fargate");
            host.Accept(0, [Task("run-1", model, limit)], Pipeline);
            var (events, updates, _) = Run(host, horizon);
            var running = events.Single(e => e.Kind == EventKinds.Task && e.State == TaskStates.Running).TimeMs;

            // Brute force over every sample after the task started.
            long? expected = null;
            for (var g = (running + 1 + Interval - 1) / Interval * Interval; g <= horizon; g += Interval)
            {
                if (model.UseMiB(11, "run-1/app", g / Interval, g - running, Interval) > limit)
                {
                    expected = g;
                    break;
                }
            }
            var oom = events.Where(e => e.Kind == EventKinds.Oom).ToList();
            if (expected is null)
            {
                Assert.Empty(oom);
                return;
            }
            var kill = Assert.Single(oom);
            Assert.Equal(expected, kill.TimeMs);
            Assert.Equal(("run-1", "app", OomScopes.Container, (string?)null), (kill.Task, kill.Container, kill.Scope, kill.Instance));
            var stopped = events.Single(e => e.Kind == EventKinds.Task && e.State == TaskStates.Stopped);
            Assert.Equal(StopReasons.OutOfMemory, stopped.Reason);
            Assert.Contains(updates, u => u.State == TaskStates.Stopped);
        }, iter: 200);
    }

    [Fact]
    public void A_slow_leak_is_looked_at_only_near_its_crossing_not_every_minute_of_the_month()
    {
        // 100 MiB + 1 MiB per hour against a 700 MiB limit: crosses after 25 days.
        var host = HostModel.FargatePool("fargate-a", "acme", "prod", "a", "fargate");
        host.Accept(0, [Task("run-1", new MemoryUsageModel { MeanMiB = 100, LeakMiBPerHour = 1 }, 700)], Pipeline);
        var (events, _, calls) = Run(host, 30L * 86_400_000);
        var kill = Assert.Single(events, e => e.Kind == EventKinds.Oom);
        Assert.InRange(kill.TimeMs, 25L * 86_400_000, 25L * 86_400_000 + 3 * 60_000);
        Assert.True(calls < 20, $"{calls} host steps for one task in 30 days");
    }

    [Fact]
    public void A_node_heap_at_75_percent_of_a_small_container_is_killed_and_a_sane_one_is_not()
    {
        // The seed's story: 512 MiB container, heap demand grows; 96 MiB outside the heap.
        MemoryUsageModel Node(HeapSizing h) => new()
        {
            MeanMiB = 300, LeakMiBPerHour = 60, HeapMiB = h.HeapMiB(512), OverheadMiB = h.OverheadMiB,
        };
        var recipe = new HeapSizing { OverheadMiB = 96 };
        var sane = new HeapSizing { Percent = 60, MinMiB = 128, OverheadMiB = 96 };
        var host = HostModel.FargatePool("fargate-a", "acme", "prod", "a", "fargate");
        host.Accept(0, [Task("recipe", Node(recipe), 512), Task("sane", Node(sane), 512)], Pipeline);
        var (events, _, _) = Run(host, 2L * 86_400_000);
        var kill = Assert.Single(events, e => e.Kind == EventKinds.Oom);
        Assert.Equal("recipe", kill.Task);
        Assert.Contains(events, e => e.Task == "sane" && e.State == TaskStates.Running);
        Assert.DoesNotContain(events, e => e.Task == "sane" && e.State == TaskStates.Stopped);
    }

    [Fact]
    public void A_non_essential_container_dies_alone_and_the_task_runs_on()
    {
        var host = HostModel.FargatePool("fargate-a", "acme", "prod", "a", "fargate");
        var launch = Task("run-1", new MemoryUsageModel { MeanMiB = 100 }, 200) with
        {
            Containers =
            [
                new ContainerRuntime { Name = "app", HardLimitMiB = 200, Memory = new MemoryUsageModel { MeanMiB = 100 } },
                new ContainerRuntime { Name = "sidecar", Essential = false, HardLimitMiB = 64, Memory = new MemoryUsageModel { MeanMiB = 50, LeakMiBPerHour = 10 } },
            ],
        };
        host.Accept(0, [launch], Pipeline);
        var (events, _, _) = Run(host, 86_400_000);
        var kill = Assert.Single(events, e => e.Kind == EventKinds.Oom);
        Assert.Equal("sidecar", kill.Container);
        Assert.DoesNotContain(events, e => e.State == TaskStates.Stopped);
        Assert.Equal(long.MaxValue, host.NextMemoryCheckMs);
    }
}
