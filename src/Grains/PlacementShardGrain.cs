using Scheduler.Abstractions;
using Scheduler.Core.Placement;
using Scheduler.Core.Placement.Sharding;

namespace Scheduler.Grains;

/// <summary>
/// A placement scheduler of a sharded cluster. Spread over the silos by its key, so that what crosses shards is a
/// message between silos; stateless, because the commit order (and so the log) must not depend on where it runs.
/// </summary>
[Orleans.Placement.HashBasedPlacement]
public sealed class PlacementShardGrain : Grain, IPlacementShardGrain
{
    public Task<PlacementPlan> Plan(ShardInput input) => Task.FromResult(PlacementEngine.Place(input.Instances, input.Pending, input.Options));
}
