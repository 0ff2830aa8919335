using Scheduler.Abstractions;
using Scheduler.Core.Placement.Sharding;

namespace Scheduler.Grains;

/// <summary>
/// A cluster whose placement is split among K schedulers: this grain keeps the one placement view, hands each
/// deciding scheduler its snapshot, and commits their plans in shard order (<see cref="ShardedRound"/>), whatever
/// silo each scheduler runs on and whenever its answer arrives.
/// </summary>
public sealed partial class PlacementGrain
{
    private async Task<PlacementResult> PlaceSharded(long nowMs, PlacementRequest request, ClusterSetup setup, ShardingSpec spec)
    {
        _groups ??= ShardedRound.Groups(setup.Cluster);
        var round = new ShardedRound(Cache.Instances, request.Pending, Options(setup, request), spec, state.State.Sharding,
            nowMs, setup.Run.TickMs, request.NextInstanceNumber, groups: _groups);
        foreach (var k in round.Deciding)
        {
            // One after another: a scheduler's snapshot may include the commits of the shards before it.
            var input = round.Input(k);
            round.Commit(k, await Shard(k).Plan(input));
        }
        var result = round.Finish();
        state.State.Sharding = result.Next;
        Record(result.Plan, request);
        return new PlacementResult(result.Plan, result.Plan.NewInstances.Select(n => n.Id).ToList(), result.Shards);
    }

    /// <summary>The cluster's declared task groups, dealt out to the schedulers (fixed for the run).</summary>
    private IReadOnlyList<string>? _groups;

    private IPlacementShardGrain Shard(int k) =>
        GrainFactory.GetGrain<IPlacementShardGrain>(Keys.Child(this.GetPrimaryKeyString(), $"placement-shard-{k}"));
}
