using Orleans.TestingHost;
using Scheduler.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;
using Scheduler.Silo;

namespace Scheduler.Grains.Tests;

/// <summary>Real in-process Orleans clusters for the grain tests, with the same silo set-up as the product.</summary>
public static class TestClusters
{
    public static async Task<InProcessTestCluster> StartAsync(short silos)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((_, silo) => silo.AddSchedulerGrains());
        builder.ConfigureClient(client => client.AddSchedulerClient());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>Runs a scenario to the end through the simulation grain and returns its events.jsonl text and the tick count.</summary>
    public static async Task<(string Log, long Ticks, List<SimEvent> Events)> RunAsync(IGrainFactory grains, Scenario scenario, string runId)
    {
        var sim = grains.GetGrain<ISimulationGrain>(runId);
        await sim.Start(new SimulationSetup(runId, scenario, InstanceTypeCatalog.Default.Types));
        var events = new List<SimEvent>();
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        while (true)
        {
            var p = await sim.RunFor(250);
            foreach (var e in p.Events)
            {
                EventJson.WriteLine(e, writer);
                events.Add(e);
            }
            if (p.Done)
            {
                return (System.Text.Encoding.UTF8.GetString(writer.WrittenSpan), p.Ticks, events);
            }
        }
    }
}

/// <summary>One silo shared by the tests of a class (each run has its own run id and grains).</summary>
public sealed class LaunchClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await TestClusters.StartAsync(1);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private int _runs;

    public async Task<(RunSummary Summary, List<SimEvent> Events)> Run(Scenario scenario)
    {
        var (_, ticks, events) = await TestClusters.RunAsync(Cluster.Client, scenario, $"launch-{Interlocked.Increment(ref _runs)}");
        var builder = new SummaryBuilder(InstanceTypeCatalog.Default);
        foreach (var e in events)
        {
            builder.Observe(e);
        }
        return (builder.Build(scenario.Name, scenario.Seed, events.Count == 0 ? 0 : events[^1].TimeMs, 0, ticks), events);
    }
}
