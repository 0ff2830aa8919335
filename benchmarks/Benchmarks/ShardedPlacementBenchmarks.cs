using BenchmarkDotNet.Attributes;
using Scheduler.Core.Placement;
using Scheduler.Core.Placement.Sharding;

namespace Scheduler.Benchmarks;

/// <summary>
/// What K placement schedulers cost against one, in the placement computation alone (one thread, no grains): the
/// same workload as <see cref="PlacementBenchmarks"/> (one tick's pending tasks onto the fleet), placed by K
/// shared-state schedulers (each its own snapshot and plan, committed in shard order) or by the one engine run.
/// </summary>
[MemoryDiagnoser]
public class ShardedPlacementBenchmarks
{
    private PlacementWorkload _workload = null!;

    [Params(100_000)]
    public int Tasks { get; set; }

    [Params(10_000)]
    public int Instances { get; set; }

    [Params(1, 2, 4, 8)]
    public int Shards { get; set; }

    /// <summary>0: the schedulers decide one after another; 1 s: on the same snapshot (the others' claims of the tick hidden).</summary>
    [Params(0, 1000)]
    public long DecisionTimeMs { get; set; }

    [GlobalSetup]
    public void Setup() => _workload = PlacementWorkloads.Large(Tasks, Instances, zones: 3, seed: 1);

    [Benchmark(Baseline = true)]
    public int Monolithic() => PlacementEngine.Place(_workload.Instances, _workload.Pending, _workload.Options).Assignments.Count;

    [Benchmark]
    public int SharedState() => ShardedPlacement.Place(_workload.Instances, _workload.Pending, _workload.Options,
        new ShardingSpec { Shards = Shards, Mode = ShardingMode.SharedState, DecisionTimeMs = DecisionTimeMs },
        ShardingState.Empty, 0, 1000, 1).Plan.Assignments.Count;
}
