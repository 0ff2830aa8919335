using Scheduler.Core.Cluster;
using Scheduler.Core.Placement.Sharding;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Placement;

/// <summary>
/// A cluster whose placement is split among K schedulers: the agent keeps the one placement view, hands each deciding
/// scheduler its snapshot, and commits their plans in shard order (<see cref="ShardedRound"/>), whoever runs the
/// schedulers and whenever their answers arrive.
/// </summary>
public sealed partial class PlacementAgent
{
    /// <summary>What the schedulers carry from one tick to the next.</summary>
    public ShardingState Sharding { get; set; } = ShardingState.Empty;

    /// <summary>The cluster's declared task groups, dealt out to the schedulers (fixed for the run).</summary>
    private IReadOnlyList<string>? _groups;

    private static Task<PlacementPlan> InProcess(ShardInput input) =>
        Task.FromResult(PlacementEngine.Place(input.Instances, input.Pending, input.Options));

    /// <summary>
    /// As <see cref="Place"/>, with each scheduler's plan made by <paramref name="planner"/> (the placement grain: one
    /// grain per scheduler). With one monolithic scheduler it is <see cref="Place"/>.
    /// </summary>
    public async Task<PlacementPlan> PlaceAsync(long nowMs, PlacementRequest request, Func<ShardInput, Task<PlacementPlan>> planner)
    {
        var setup = Setup ?? throw new InvalidOperationException("placement not initialised");
        if (setup.Cluster.Placement.IsDefault)
        {
            return Place(nowMs, request);
        }
        TakeUpdates(request);
        return await PlaceSharded(nowMs, request, setup, planner);
    }

    private async Task<PlacementPlan> PlaceSharded(long nowMs, PlacementRequest request, ClusterSetup setup, Func<ShardInput, Task<PlacementPlan>> planner)
    {
        _groups ??= ShardedRound.Groups(setup.Cluster);
        var round = new ShardedRound(Cache.Instances, request.Pending, Options(setup, request), setup.Cluster.Placement, Sharding,
            nowMs, setup.Run.TickMs, request.NextInstanceNumber, ClusterBook.InstanceId, _groups);
        foreach (var k in round.Deciding)
        {
            // One after another: a scheduler's snapshot may include the commits of the shards before it.
            var input = round.Input(k);
            round.Commit(k, await planner(input));
        }
        var result = round.Finish();
        Sharding = result.Next;
        Record(result.Plan, request);
        return result.Plan with { Shards = result.Shards };
    }
}
