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
    int PlacementEndToEndServices,
    long BytesPerInstance,
    long BytesPerTask,
    long AllocatedBytesPerTask,
    double GcPauseSeconds,
    int GcCollections,
    SimulationSpeed? Simulation = null);

/// <summary>How fast a whole scenario ran through the grains (one silo), with <c>bench --scenario</c>.</summary>
/// <remarks>
/// <see cref="RetainedHeapBytes"/> is the managed heap after a full collection at the end of the run (the grains
/// still hold every host and task) less the heap before it started; <see cref="BytesPerTask"/> and
/// <see cref="BytesPerHost"/> divide it by the tasks and by the instances the run launched.
/// </remarks>
public sealed record SimulationSpeed(
    string Scenario,
    double SimulatedSeconds,
    double WallSeconds,
    long Ticks,
    long Events,
    double SimulatedSecondsPerWallSecond,
    double EventsPerWallSecond,
    long PeakWorkingSetBytes,
    long TasksLaunched = 0,
    long HostsLaunched = 0,
    long RetainedHeapBytes = 0,
    long BytesPerTask = 0,
    long BytesPerHost = 0);

/// <summary>The end-to-end figures of one run of the bench scenario.</summary>
/// <remarks>Allocation and GC figures cover the timed ticks only, across every thread of the process.</remarks>
public sealed record EndToEnd(double WallSeconds, long Acknowledged, long BytesPerInstance, long BytesPerTask,
    long AllocatedBytes, double GcPauseSeconds, int GcCollections)
{
    public double PerSecond => WallSeconds > 0 ? Acknowledged / WallSeconds : 0;
}

/// <summary>
/// The performance figures that concern placement: the pure phases on one thread, and
/// the same work through the grains of one embedded silo (placement grain, cluster grain, instance grains
/// acknowledging their batches).
/// </summary>
public static class Bench
{
    private const int WarmUpSteps = 120;

    /// <summary>Timed end-to-end runs after the warm-up; the median is reported.</summary>
    public const int EndToEndRuns = 3;

    /// <summary>
    /// Waits (at most <paramref name="limit"/>) until the background compiler has compiled nothing for two looks in a
    /// row: the tick before the timed one activates thousands of grains, and what it made hot is recompiled at the
    /// optimised tier on another thread. On two cores that recompilation would otherwise share the timed tick's CPU.
    /// </summary>
    private static async Task JitQuiet(TimeSpan limit, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var last = System.Runtime.JitInfo.GetCompiledMethodCount();
        var quiet = 0;
        while (quiet < 2 && clock.Elapsed < limit)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellation);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            quiet = now == last ? quiet + 1 : 0;
            last = now;
        }
    }

    public static double MedianCoreMilliseconds(PlacementWorkload w, int repeat, out int placed)
    {
        // Untimed runs first: tiered compilation promotes the hot loops to optimised code after a few calls.
        placed = 0;
        for (var k = 0; k < 5; k++)
        {
            placed = PlacementEngine.Place(w.Instances, w.Pending, w.Options).Assignments.Count;
        }
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
    /// tasks (services of 250, with the deployment rate raised so that each launches its 250 in one workflow
    /// cycle: the bench measures placement, not the deployment rate) whose desired counts are raised at t = 1 s, so the
    /// registration tick is not part of the measured one; with <paramref name="steps"/> above one, raised in that
    /// many equal steps, one a second.
    /// </summary>
    public static string EndToEndScenario(int tasks, int instances, int zones, out int services, int steps = 1)
    {
        const int perService = 250;
        services = Math.Max(1, (tasks + perService - 1) / perService);
        var zoneList = string.Join(", ", Enumerable.Range(0, zones).Select(z => (char)('a' + z)));
        var yaml = new StringBuilder();
        yaml.AppendLine($"""
            name: bench-end-to-end
            seed: 1
            duration: {steps + 1}s
            tick: 1s
            accounts:
              - id: bench
                limits: {"{"} serviceDeploymentEc2: {"{"} burst: {perService}, perSecond: {perService} {"}"} {"}"}
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
        for (var step = 1; step <= steps; step++)
        {
            // Each step raises every service's desired count by its share, so each step's tick places about tasks / steps.
            var left = tasks;
            for (var s = 0; s < services; s++, left -= perService)
            {
                var target = Math.Min(perService, left);
                yaml.AppendLine($"  - {{ at: {step}s, updateService: {{ account: bench, cluster: c, service: s{s:D4}, desiredCount: {target * step / steps} }} }}");
            }
        }
        return yaml.ToString();
    }

    public static async Task<BenchResult> RunAsync(BenchOptions o, Action<string> log, CancellationToken cancellation, string? scenarioPath = null)
    {
        log($"placement core: {o.Tasks:N0} pending tasks onto {o.Instances:N0} instances over {o.Zones} zones, one thread, median of {o.Repeat}");
        var workload = PlacementWorkloads.Large(o.Tasks, o.Instances, o.Zones, o.Seed);
        var coreMs = MedianCoreMilliseconds(workload, o.Repeat, out var placed);
        var corePerSecond = placed / (coreMs / 1000.0);
        log($"  {placed:N0} placed in {coreMs:F1} ms: {corePerSecond:N0} placements/s");

        EndToEndScenario(o.Tasks, o.Instances, o.Zones, out var services);
        log($"placement end to end: {o.Tasks:N0} service tasks ({services} services) onto {o.Instances:N0} registered instances, one silo");
        EndToEnd e2e;
        await using (var cluster = await EmbeddedCluster.StartAsync(1, cancellation))
        {
            // Untimed first: a fifth of the work spread over 120 ticks, so that the code the timed tick runs once per
            // tick, per service or per host has been called often enough to reach its optimised tier (as it has in any
            // run of more than a few simulated minutes), and one run of the full size, whose large collections and
            // first activations of that many grains take paths the small ticks never reach.
            log($"  warming up: {WarmUpSteps} ticks of placements and one run of the full size, untimed");
            await EndToEndAsync(cluster.Grains, Math.Max(1, o.Tasks / 5), Math.Max(1, o.Instances / 5), o.Zones, cancellation, WarmUpSteps);
            await EndToEndAsync(cluster.Grains, o.Tasks, o.Instances, o.Zones, cancellation);
            var runs = new List<EndToEnd>();
            for (var k = 0; k < EndToEndRuns; k++)
            {
                var run = await EndToEndAsync(cluster.Grains, o.Tasks, o.Instances, o.Zones, cancellation);
                log($"  run {k + 1}: {run.Acknowledged:N0} placed and acknowledged in {run.WallSeconds:F2} s: {run.PerSecond:N0} tasks/s, {run.GcCollections} GCs pausing {run.GcPauseSeconds:F3} s");
                runs.Add(run);
            }
            e2e = runs.OrderBy(r => r.PerSecond).ElementAt(runs.Count / 2);
        }
        log($"  median of {EndToEndRuns}: {e2e.Acknowledged:N0} placed and acknowledged in {e2e.WallSeconds:F2} s: {e2e.PerSecond:N0} tasks/s");
        log($"  memory: {e2e.BytesPerInstance:N0} bytes per registered instance, {e2e.BytesPerTask:N0} bytes per placed task");
        log($"  timed ticks: {e2e.AllocatedBytes / Math.Max(1, e2e.Acknowledged):N0} bytes allocated per task, {e2e.GcCollections} GCs pausing {e2e.GcPauseSeconds:F3} s");

        SimulationSpeed? speed = null;
        if (scenarioPath is not null)
        {
            speed = await SimulateAsync(scenarioPath, log, cancellation);
        }
        return new BenchResult(
            $"{RuntimeInformation.OSDescription} {RuntimeInformation.ProcessArchitecture}", Environment.ProcessorCount,
            RuntimeInformation.FrameworkDescription, o.Tasks, o.Instances, o.Zones,
            Math.Round(corePerSecond), Math.Round(coreMs, 2), Math.Round(e2e.PerSecond), Math.Round(e2e.WallSeconds, 3), e2e.Acknowledged, services,
            e2e.BytesPerInstance, e2e.BytesPerTask, e2e.AllocatedBytes / Math.Max(1, e2e.Acknowledged), Math.Round(e2e.GcPauseSeconds, 3), e2e.GcCollections, speed);
    }

    /// <summary>
    /// One run of the end-to-end scenario; times the ticks that placed tasks. The managed heap is measured
    /// (after a full collection) before the run, after the registration tick and after the placement tick; after the
    /// registration tick the run also waits for the background compiler to go quiet (<see cref="JitQuiet"/>).
    /// </summary>
    public static async Task<EndToEnd> EndToEndAsync(IGrainFactory grains, int tasks, int instances, int zones, CancellationToken cancellation, int steps = 1)
    {
        var yaml = EndToEndScenario(tasks, instances, zones, out _, steps);
        var loaded = ScenarioLoader.Parse(yaml, "bench-end-to-end.yaml");
        if (!loaded.Ok)
        {
            throw new InvalidOperationException("bench scenario does not load: " + string.Join("; ", loaded.Errors));
        }
        var runId = $"bench-{Guid.NewGuid():N}";
        var sim = grains.GetGrain<ISimulationGrain>(runId);
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        await sim.Start(new SimulationSetup(runId, loaded.Scenario!, (loaded.Catalog ?? InstanceTypeCatalog.Default).Types));
        double measured = 0;
        long acknowledged = 0, allocated = 0;
        var paused = TimeSpan.Zero;
        var collections = 0;
        long heapRegistered = -1, heapPlaced = -1;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var (allocatedBefore, pausedBefore, collectionsBefore) = (GC.GetTotalAllocatedBytes(), GC.GetTotalPauseDuration(), GC.CollectionCount(0));
            var clock = Stopwatch.StartNew();
            // A budget of 1 ms: one round (one simulated tick) per call, so the tick with the placements is timed alone.
            var p = await sim.RunFor(1);
            var elapsed = clock.Elapsed.TotalSeconds;
            var (allocatedTick, pausedTick, collectionsTick) =
                (GC.GetTotalAllocatedBytes() - allocatedBefore, GC.GetTotalPauseDuration() - pausedBefore, GC.CollectionCount(0) - collectionsBefore);
            // The tick returns only after every instance grain has acknowledged its batch, so the tasks its
            // placement events report as placed were placed and acknowledged within it.
            var tickPlaced = p.Events.Where(e => e.Kind == EventKinds.Placement).Sum(e => (long)e.Placed);
            var done = p.Done;
            p = null;
            if (tickPlaced > 0)
            {
                measured += elapsed;
                acknowledged += tickPlaced;
                allocated += allocatedTick;
                paused += pausedTick;
                collections += collectionsTick;
                if (heapPlaced < 0)
                {
                    heapPlaced = GC.GetTotalMemory(forceFullCollection: true);
                }
            }
            else if (heapRegistered < 0)
            {
                heapRegistered = GC.GetTotalMemory(forceFullCollection: true);
                await JitQuiet(TimeSpan.FromSeconds(5), cancellation);
            }
            if (done)
            {
                break;
            }
        }
        return new EndToEnd(measured, acknowledged,
            heapRegistered < 0 ? 0 : Math.Max(0, heapRegistered - heapBefore) / Math.Max(1, instances),
            heapPlaced < 0 || acknowledged == 0 ? 0 : Math.Max(0, heapPlaced - heapRegistered) / acknowledged,
            allocated, paused.TotalSeconds, collections);
    }

    /// <summary>Runs a whole scenario on one embedded silo (events to a temporary folder) and measures its speed.</summary>
    public static async Task<SimulationSpeed> SimulateAsync(string scenarioPath, Action<string> log, CancellationToken cancellation)
    {
        var loaded = ScenarioLoader.Load(scenarioPath);
        if (!loaded.Ok)
        {
            throw new InvalidOperationException($"{scenarioPath} does not load: " + string.Join("; ", loaded.Errors));
        }
        var scenario = loaded.Scenario!;
        log($"simulation speed: {scenarioPath} ({SimulationLimits.EndMs(scenario) / 1000.0:N0} simulated seconds), one silo");
        var outDir = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}");
        try
        {
            await using var cluster = await EmbeddedCluster.StartAsync(1, cancellation);
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            var clock = Stopwatch.StartNew();
            var summary = await SimulationRun.RunAsync(cluster.Grains, scenario, loaded.Catalog ?? InstanceTypeCatalog.Default, outDir, cancellation: cancellation);
            var wall = clock.Elapsed.TotalSeconds;
            var retained = Math.Max(0, GC.GetTotalMemory(forceFullCollection: true) - heapBefore);
            var events = File.ReadLines(Path.Combine(outDir, "events.jsonl")).LongCount();
            var simulated = summary.SimulatedSeconds;
            long tasks = summary.TasksLaunched, hosts = summary.InstancesLaunched.Values.Sum();
            var speed = new SimulationSpeed(scenario.Name, simulated, Math.Round(wall, 3), summary.Ticks, events,
                Math.Round(simulated / wall, 1), Math.Round(events / wall), Process.GetCurrentProcess().PeakWorkingSet64,
                tasks, hosts, retained, tasks == 0 ? 0 : retained / tasks, hosts == 0 ? 0 : retained / hosts);
            log($"  {simulated:N0} simulated s in {wall:F1} s wall, {speed.Ticks:N0} ticks: {speed.SimulatedSecondsPerWallSecond:N0} simulated s/s, {speed.EventsPerWallSecond:N0} events/s, peak working set {speed.PeakWorkingSetBytes >> 20:N0} MiB");
            log($"  retained heap {retained >> 20:N0} MiB: {speed.BytesPerTask:N0} bytes per task launched ({tasks:N0}), {speed.BytesPerHost:N0} bytes per host launched ({hosts:N0})");
            return speed;
        }
        finally
        {
            try
            {
                Directory.Delete(outDir, recursive: true);
            }
            catch (IOException)
            {
                // A temporary folder left behind is harmless.
            }
        }
    }

    public static async Task WriteAsync(BenchResult result, string outDir, CancellationToken cancellation)
    {
        Directory.CreateDirectory(outDir);
        await File.WriteAllTextAsync(Path.Combine(outDir, "bench.json"), JsonSerializer.Serialize(result, SimulationRun.SummaryJson) + "\n", cancellation);
    }
}
