using Scheduler.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;

namespace Scheduler.Grains.Tests;

/// <summary>
/// A round ticks its accounts in batches of <see cref="SimulationGrain.ShardBatch"/> and a RunFor call whose
/// wall budget runs out ends between two batches: the log must not depend on where the calls were cut.
/// </summary>
public sealed class RoundBatchingTests
{
    private const string Tenants = """
        name: many-tenants
        seed: 7
        duration: 20m
        tick: 1s
        generators:
          - tenants:
              count: 70
              idPrefix: t-
              clustersPerAccount: 2
              clusterPrefix: c-
              cluster:
                zones: [a, b, c]
                capacityProviders:
                  - { name: fargate, type: FARGATE }
                taskDefinitions:
                  - family: job
                    cpu: 256
                    memory: 512
                    runTime: { mean: 3m, stddev: 1m, min: 30s }
                    containers:
                      - { name: job, image: t/job:1, cpu: 256, memory: 512 }
              services:
                count: { min: 1, max: 2 }
                namePrefix: svc-
                capacityProvider: fargate
                desiredCount: { median: 2, sigma: 0.5, min: 1, max: 5 }
                sizes:
                  - { cpu: 256, memory: 512, weight: 1 }
                image: t/app:1
              arrivals:
                - { taskDefinition: job, capacityProvider: fargate, process: poisson, ratePerHour: 6, count: { min: 1, max: 2 } }
        """;

    [Fact]
    public async Task Rounds_cut_between_shard_batches_give_the_same_log_as_whole_rounds()
    {
        var scenario = TestScenarios.Parse(Tenants);
        Assert.True(scenario.Accounts.Count > 2 * SimulationGrain.ShardBatch, "enough accounts for a round of several batches");
        await using var cluster = await TestClusters.StartAsync(1);

        var whole = await Run(cluster.Client, scenario, "whole", budgetMs: 600_000);
        var cut = await Run(cluster.Client, scenario, "cut", budgetMs: 1);

        Assert.Equal(0, whole.CallsEndingMidRound);
        // A 1 ms budget ends every call after its first batch: the rounds of all 70 accounts (t = 0) were cut.
        Assert.True(cut.CallsEndingMidRound > 0);
        Assert.True(whole.Log.Length > 10_000);
        Assert.Equal(whole.Log, cut.Log);
        Assert.Equal(whole.Ticks, cut.Ticks);
    }

    private static async Task<(string Log, long Ticks, int CallsEndingMidRound)> Run(IGrainFactory grains, Core.Scenarios.Scenario scenario, string runId, int budgetMs)
    {
        var sim = grains.GetGrain<ISimulationGrain>(runId);
        await sim.Start(new SimulationSetup(runId, scenario, InstanceTypeCatalog.Default.Types));
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        long ticks = 0;
        var midRound = 0;
        while (true)
        {
            var p = await sim.RunFor(budgetMs);
            foreach (var e in p.Events)
            {
                EventJson.WriteLine(e, writer);
            }
            if (p.Ticks == ticks && p.Events.Count > 0)
            {
                // Events without a finished round: the call ended between two batches of a round.
                midRound++;
            }
            ticks = p.Ticks;
            if (p.Done)
            {
                return (System.Text.Encoding.UTF8.GetString(writer.WrittenSpan), p.Ticks, midRound);
            }
        }
    }
}
