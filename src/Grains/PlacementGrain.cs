using Scheduler.Abstractions;
using Scheduler.Core.Cluster;
using Scheduler.Core.Placement;
using Scheduler.Grains.Checkpoints;

namespace Scheduler.Grains;

/// <summary>Keeps the cluster's capacity view and runs the three placement phases on it each tick (pure <see cref="PlacementAgent"/>).</summary>
[Orleans.Placement.PreferLocalPlacement]
public sealed class PlacementGrain(
    [PersistentState("placement", "sim")] IPersistentState<PlacementAgent> state) : Grain, IPlacementGrain, ICheckpointedGrain
{
    public Task ReloadAsync() => state.ReadStateAsync();

    public Task Init(ClusterSetup setup)
    {
        state.State.Setup = setup;
        return state.WriteStateAsync();
    }

    public async Task<PlacementResult> Place(long nowMs, PlacementRequest request)
    {
        // A cluster with several schedulers runs each as its own grain (PlacementShardGrain), spread over the silos.
        var plan = await state.State.PlaceAsync(nowMs, request, input =>
            GrainFactory.GetGrain<IPlacementShardGrain>(Keys.Child(this.GetPrimaryKeyString(), $"placement-shard-{input.Shard}")).Plan(input));
        return new PlacementResult(plan, plan.NewInstances.Select(n => n.Id).ToList());
    }

    public Task Checkpoint(long nowMs) => state.WriteStateAsync();

    public Task<IReadOnlyList<string>> Explanation() => Task.FromResult<IReadOnlyList<string>>(state.State.Explanation.ToList());
}
