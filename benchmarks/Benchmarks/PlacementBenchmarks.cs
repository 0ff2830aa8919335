using BenchmarkDotNet.Attributes;
using Scheduler.Core.Placement;

namespace Scheduler.Benchmarks;

/// <summary>
/// The pure placement phases at the scale : 100,000 pending tasks onto 10,000 instances
/// over 3 zones, one thread. Placements per second = Tasks / mean time.
/// </summary>
[MemoryDiagnoser]
public class PlacementBenchmarks
{
    private PlacementWorkload _workload = null!;

    [Params(100_000)]
    public int Tasks { get; set; }

    [Params(10_000)]
    public int Instances { get; set; }

    [GlobalSetup]
    public void Setup() => _workload = PlacementWorkloads.Large(Tasks, Instances, zones: 3, seed: 1);

    [Benchmark]
    public int Place() => PlacementEngine.Place(_workload.Instances, _workload.Pending, _workload.Options).Assignments.Count;
}
