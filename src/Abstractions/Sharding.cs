using Scheduler.Core.Placement;
using Scheduler.Core.Placement.Sharding;

namespace Scheduler.Abstractions;

/// <summary>
/// One of a cluster's K placement schedulers (a cluster's <c>placement:</c> field with more than one shard). It keeps
/// nothing: it runs the three placement phases on the snapshot it is given, and the cluster's placement grain commits
/// the plans in shard order.
/// </summary>
public interface IPlacementShardGrain : IGrainWithStringKey
{
    Task<PlacementPlan> Plan(ShardInput input);
}
