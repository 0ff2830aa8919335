using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Scheduler.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client;

public sealed record BenchOptions(int Tasks, int Instances, int Zones, int Repeat, long Seed);

/// <summary>What <c>bench</c> measured, as written to bench.json.</summary>
public sealed record BenchResult(
    string Machine,
    int ProcessorCount,
    string Runtime,
    int Tasks,
    int Instances,
    int Zones,
    double PlacementCorePerSecond,
    double PlacementCoreMillisecondsMedian,
    double PlacementEndToEndPerSecond,
    double PlacementEndToEndWallSeconds,
    long PlacementEndToEndTasksAcknowledged,
    int PlacementEndToEndServices);

/// <summary>
/// The performance figures of SPEC section 14 that concern placement: the pure phases on one thread, and
/// the same work through the grains of one embedded silo (placement grain, cluster grain, instance grains
/// acknowledging their batches).
/// </summary>
public static class Bench
{
    public static double MedianCoreMilliseconds(PlacementWorkload w, int repeat, out int placed)
    {
        // One untimed run warms the JIT and the caches.
        placed = PlacementEngine.Place(w.Instances, w.Pending, w.Options).Assignments.Count;
        var times = new List<double>();
        for (var k = 0; k < repeat; k++)
        {
            var clock = Stopwatch.StartNew();
            var plan = PlacementEngine.Place(w.Instances, w.Pending, w.Options);
            times.Add(clock.Elapsed.TotalMilliseconds);
            placed = plan.Assignments.Count;
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>
    /// A scenario of <paramref name="instances"/> registered EC2 instances and <paramref name="tasks"/> service
    /// tasks (services of 250, the EC2 deployment batch) whose desired counts are raised at t = 1 s, so the
    /// registration tick is not part of the measured one.
    /// </summary>
    public static string EndToEndScenario(int tasks, int instances, int zones, out int services)
    {
        const int perService = 250;
        services = Math.Max(1, (tasks + perService - 1) / perService);
        var zoneList = string.Join(", ", Enumerable.Range(0, zones).Select(z => (char)('a' + z)));
        var yaml = new StringBuilder();
        yaml.AppendLine($"""
            name: bench-end-to-end
            seed: 1
            duration: 2s
            tick: 1s
            accounts:
              - id: bench
                clusters:
                  - name: c
                    zones: [{zoneList}]
                    capacityProviders:
                      - {"{"} name: ec2, type: EC2, instanceTypes: [m6i.4xlarge], initialInstances: {instances}, maxInstances: {instances} {"}"}
                    taskDefinitions:
                      - family: app
                        containers:
                          - {"{"} name: app, image: bench/app:1, cpu: 256, memory: 512 {"}"}
                    services:
            """);
        for (var s = 0; s < services; s++)
        {
            yaml.AppendLine($"          - {{ name: s{s:D4}, taskDefinition: app, desiredCount: 0, capacityProvider: ec2 }}");
        }
        yaml.AppendLine("timeline:");
        var left = tasks;
        for (var s = 0; s < services; s++, left -= perService)
        {
            yaml.AppendLine($"  - {{ at: 1s, updateService: {{ account: bench, cluster: c, service: s{s:D4}, desiredCount: {Math.Min(perService, left)} }} }}");
        }
        return yaml.ToString();
    }

    public static async Task<BenchResult> RunAsync(BenchOptions o, Action<string> log, CancellationToken cancellation)
    {
        log($"placement core: {o.Tasks:N0} pending tasks onto {o.Instances:N0} instances over {o.Zones} zones, one thread, median of {o.Repeat}");
        var workload = PlacementWorkloads.Large(o.Tasks, o.Instances, o.Zones, o.Seed);
        var coreMs = MedianCoreMilliseconds(workload, o.Repeat, out var placed);
        var corePerSecond = placed / (coreMs / 1000.0);
        log($"  {placed:N0} placed in {coreMs:F1} ms: {corePerSecond:N0} placements/s");

        var yaml = EndToEndScenario(o.Tasks, o.Instances, o.Zones, out var services);
        var loaded = ScenarioLoader.Parse(yaml, "bench-end-to-end.yaml");
        if (!loaded.Ok)
        {
            throw new InvalidOperationException("bench scenario does not load: " + string.Join("; ", loaded.Errors));
        }
        log($"placement end to end: {o.Tasks:N0} service tasks ({services} services) onto {o.Instances:N0} registered instances, one silo");
        await using var cluster = await EmbeddedCluster.StartAsync(1, cancellation);
        var runId = $"bench-{Guid.NewGuid():N}";
        var sim = cluster.Grains.GetGrain<ISimulationGrain>(runId);
        await sim.Start(new SimulationSetup(runId, loaded.Scenario!, (loaded.Catalog ?? InstanceTypeCatalog.Default).Types));
        double measured = 0;
        long acknowledged = 0;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            // A budget of 1 ms: one round (one simulated tick) per call, so the tick with the placements is timed alone.
            var p = await sim.RunFor(1);
            var elapsed = clock.Elapsed.TotalSeconds;
            // The tick returns only after every instance grain has acknowledged its batch, so the tasks its
            // placement events report as placed were placed and acknowledged within it.
            var tickPlaced = p.Events.Where(e => e.Kind == EventKinds.Placement).Sum(e => (long)e.Placed);
            if (tickPlaced > 0)
            {
                measured += elapsed;
                acknowledged += tickPlaced;
            }
            if (p.Done)
            {
                break;
            }
        }
        var e2ePerSecond = measured > 0 ? acknowledged / measured : 0;
        log($"  {acknowledged:N0} placed and acknowledged in {measured:F2} s: {e2ePerSecond:N0} tasks/s");
        return new BenchResult(
            $"{RuntimeInformation.OSDescription} {RuntimeInformation.ProcessArchitecture}", Environment.ProcessorCount,
            RuntimeInformation.FrameworkDescription, o.Tasks, o.Instances, o.Zones,
            Math.Round(corePerSecond), Math.Round(coreMs, 2), Math.Round(e2ePerSecond), Math.Round(measured, 3), acknowledged, services);
    }

    public static async Task WriteAsync(BenchResult result, string outDir, CancellationToken cancellation)
    {
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "bench.json"), JsonSerializer.Serialize(result, SimulationRun.SummaryJson) + "\n", cancellation);
    }
}
