using Scheduler.Core.Engine;

namespace Scheduler.Grains.Tests;

/// <summary>The same scenario and seed give the same event log, byte for byte, on one silo or several.</summary>
public sealed class DeterminismTests
{
    [Fact]
    public async Task Quickstart_gives_the_same_log_on_one_silo_and_on_three()
    {
        var scenario = TestScenarios.Load("scenarios/quickstart.yaml");
        string single, multi;
        await using (var one = await TestClusters.StartAsync(1))
        {
            single = (await TestClusters.RunAsync(one.Client, scenario, "one")).Log;
        }
        await using (var three = await TestClusters.StartAsync(3))
        {
            Assert.Equal(3, three.GetActiveSilos().Count());
            multi = (await TestClusters.RunAsync(three.Client, scenario, "three")).Log;
            // A second run in the same cluster (new run id, fresh grains) gives the same log again.
            Assert.Equal(multi, (await TestClusters.RunAsync(three.Client, scenario, "three-again")).Log);
        }
        Assert.True(single.Length > 10_000, "the quickstart should produce a substantial log");
        Assert.Equal(single, multi);
    }

    [Fact]
    public async Task Memory_samples_and_oom_kills_give_the_same_log_on_one_silo_and_on_three()
    {
        var scenario = TestScenarios.Load("scenarios/oom-host.yaml");
        string single, multi;
        await using (var one = await TestClusters.StartAsync(1))
        {
            single = (await TestClusters.RunAsync(one.Client, scenario, "oom-one")).Log;
        }
        await using (var three = await TestClusters.StartAsync(3))
        {
            multi = (await TestClusters.RunAsync(three.Client, scenario, "oom-three")).Log;
        }
        Assert.Contains("\"kind\":\"oom\"", single);
        Assert.Equal(single, multi);
    }

    [Fact]
    public async Task Job_queues_give_the_same_log_on_one_silo_and_on_three()
    {
        // Queues, their account and the clusters they start tasks in are spread over the silos; the log must not care.
        var scenario = TestScenarios.Load("scenarios/batch-queues.yaml");
        string single, multi;
        await using (var one = await TestClusters.StartAsync(1))
        {
            single = (await TestClusters.RunAsync(one.Client, scenario, "batch-one")).Log;
        }
        await using (var three = await TestClusters.StartAsync(3))
        {
            multi = (await TestClusters.RunAsync(three.Client, scenario, "batch-three")).Log;
        }
        Assert.Contains("\"kind\":\"job\"", single);
        Assert.Equal(single, multi);
    }

    [Fact]
    public async Task A_different_seed_changes_random_draws_but_not_the_shape()
    {
        var scenario = TestScenarios.Load("scenarios/quickstart.yaml");
        await using var cluster = await TestClusters.StartAsync(1);
        var a = await TestClusters.RunAsync(cluster.Client, scenario, "seed-a");
        var b = await TestClusters.RunAsync(cluster.Client, scenario with { Seed = scenario.Seed + 1 }, "seed-b");
        // Batch jobs draw their run time from a distribution keyed by seed: the logs differ...
        Assert.NotEqual(a.Log, b.Log);
        // ...but every task id that was created is the same.
        static HashSet<string> Ids(List<SimEvent> events) =>
            events.Where(e => e.Kind == EventKinds.Task).Select(e => e.Task!).ToHashSet();
        Assert.Equal(Ids(a.Events), Ids(b.Events));
    }
}
