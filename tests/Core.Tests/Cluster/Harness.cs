using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Cluster;

/// <summary>Scenario runs through <see cref="ClusterHarness"/> for the scenario tests: one cluster, no Orleans.</summary>
public static class Harness
{
    /// <summary>Runs a scenario to the end and returns its events.jsonl text, the rounds of the clock, and the events.</summary>
    public static async Task<(string Log, long Ticks, List<SimEvent> Events)> RunAsync(Scenario scenario)
    {
        var harness = await ClusterHarness.StartAsync(scenario);
        await harness.RunToEndAsync();
        return (harness.Log(), harness.Ticks, harness.Events);
    }

    /// <summary>Runs a scenario to the end and returns its summary and events.</summary>
    public static async Task<(RunSummary Summary, List<SimEvent> Events)> Run(Scenario scenario)
    {
        var (_, ticks, events) = await RunAsync(scenario);
        var builder = new SummaryBuilder(InstanceTypeCatalog.Default);
        foreach (var e in events)
        {
            builder.Observe(e);
        }
        return (builder.Build(scenario.Name, scenario.Seed, events.Count == 0 ? 0 : events[^1].TimeMs, 0, ticks), events);
    }
}
