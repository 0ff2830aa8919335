using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.Runtime;

namespace Scheduler.Core.Tests.Runtime;

/// <summary>The host's OOM killer: badness, priorities, and killing only until memory is back.</summary>
public sealed class HostOomTests
{
    private static readonly Gen<OomCandidate> Candidate = Gen.Select(Gen.Int[0, 30], Gen.Int[0, 2], Gen.Double[0, 4096], Gen.Bool,
            Gen.OneOf(Gen.Const(0), Gen.Int[-1000, 1000], Gen.Const(OomKiller.NeverKill)), Gen.Long[0, 3L * 86_400_000])
        .Select((task, container, use, essential, adj, age) => new OomCandidate($"t{task:D2}", $"c{container}", use, essential, adj, age));

    private static List<OomCandidate> Distinct(OomCandidate[] cs) =>
        cs.GroupBy(c => (c.TaskId, c.Container)).Select(g => g.First())
            // One priority and age per task, as on a real host.
            .GroupBy(c => c.TaskId).SelectMany(g => g.Select(c => c with { OomScoreAdj = g.First().OomScoreAdj, RunningForMs = g.First().RunningForMs }))
            .ToList();

    [Fact]
    public void Victims_are_killed_by_badness_only_until_memory_is_back()
    {
        Gen.Select(Candidate.Array[0, 40], Gen.Double[0, 65536]).Sample((raw, usable) =>
        {
            var cs = Distinct(raw);
            var total = cs.Sum(c => c.UseMiB);
            var victims = OomKiller.ChooseVictims(cs, total, usable);
            if (total <= usable)
            {
                Assert.Empty(victims);
                return;
            }
            Assert.DoesNotContain(victims, v => v.OomScoreAdj == OomKiller.NeverKill);
            var alive = cs.ToList();
            var use = total;
            foreach (var v in victims)
            {
                // Memory was still short when this victim was chosen, and it had the highest badness left.
                Assert.True(use > usable);
                var best = alive.Where(c => c.OomScoreAdj > OomKiller.NeverKill).Max(c => OomKiller.Badness(c, usable));
                Assert.Equal(best, OomKiller.Badness(v, usable), 9);
                var gone = alive.Where(c => c.TaskId == v.TaskId && (v.Essential || c.Container == v.Container)).ToList();
                use -= gone.Sum(c => c.UseMiB);
                alive.RemoveAll(gone.Contains);
            }
            Assert.True(use <= usable + 1e-6 || alive.All(c => c.OomScoreAdj == OomKiller.NeverKill));
        });
    }

    [Fact]
    public void Priority_and_run_time_move_a_task_down_the_list()
    {
        const double usable = 8192;
        var young = new OomCandidate("a", "app", 1000, true, 0, 0);
        var old = young with { TaskId = "b", RunningForMs = OomKiller.LongRunningMs };
        var protectedTask = young with { TaskId = "c", UseMiB = 1500, OomScoreAdj = -500 };
        Assert.True(OomKiller.Badness(young, usable) > OomKiller.Badness(old, usable));
        Assert.True(OomKiller.Badness(young, usable) > OomKiller.Badness(protectedTask, usable));
        Assert.Equal("a", OomKiller.ChooseVictims([old, young, protectedTask], 9000, usable).Single().TaskId);
    }

    private static TaskLaunch Cache(string id, double useMiB, int adj = 0) => new()
    {
        TaskId = id, StartedBy = "runTask", CapacityProvider = "ec2", TaskDefinition = "cache:1", Group = "family:cache",
        Need = new Resources(256, 1024, 0), Seed = 3, OomScoreAdj = adj,
        Containers = [new ContainerRuntime { Name = "app", ReservedMiB = 1024, Memory = new MemoryUsageModel { MeanMiB = useMiB } }],
    };

    [Fact]
    public void Reservations_that_fit_with_real_use_that_does_not_invoke_the_host_oom_killer()
    {
        // m5.large: 8192 MiB, 512 kept by the OS and agent. Eight tasks reserve 1024 each (they fit) but use 1200.
        var events = new List<SimEvent>();
        var host = HostModel.Launch("i-00001", "acme", "prod", "a", "ec2", InstanceTypeCatalog.Default.Find("m5.large")!, "1.20.0", 0, true, events);
        host.Runtime = new RuntimeSettings { HostReservedMemoryMiB = 512 };
        var tasks = Enumerable.Range(1, 8).Select(i => Cache($"run-{i}", 1200, i == 1 ? -1000 : i == 2 ? 500 : 0)).ToList();
        Assert.Empty(host.Accept(0, tasks, LaunchPipeline.Default));
        var (log, _, _) = MemoryModelTests.Run(host, 3_600_000);
        var ooms = log.Where(e => e.Kind == EventKinds.Oom).ToList();
        // 9600 MiB in 7680: two must go; the one with oom_score_adj 500 first, never the -1000 one.
        Assert.Equal(2, ooms.Count);
        Assert.All(ooms, e => Assert.Equal((OomScopes.Host, "i-00001"), (e.Scope, e.Instance)));
        Assert.Equal("run-2", ooms[0].Task);
        Assert.DoesNotContain(ooms, e => e.Task == "run-1");
        Assert.Equal(ooms[0].TimeMs, ooms[1].TimeMs);
        Assert.Equal(2, log.Count(e => e.State == TaskStates.Stopped && e.Reason == StopReasons.OutOfMemory));
        Assert.Equal(long.MaxValue, host.NextMemoryCheckMs);
    }

    [Fact]
    public void Without_usage_models_and_os_reservation_no_host_ever_samples_memory()
    {
        var events = new List<SimEvent>();
        var host = HostModel.Launch("i-00001", "acme", "prod", "a", "ec2", InstanceTypeCatalog.Default.Find("m5.large")!, "1.20.0", 0, true, events);
        var plain = Cache("run-1", 0) with { Containers = [] };
        host.Accept(0, [plain], LaunchPipeline.Default);
        MemoryModelTests.Run(host, 3_600_000);
        Assert.Equal(long.MaxValue, host.NextMemoryCheckMs);
    }
}
