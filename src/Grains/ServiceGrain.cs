using Orleans.Concurrency;
using Scheduler.Abstractions;
using Scheduler.Core.Cluster;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;
using Scheduler.Grains.Checkpoints;

namespace Scheduler.Grains;

/// <summary>A service: applies its tasks' updates and API changes, then reconciles desired against actual (pure <see cref="ServiceAgent"/>).</summary>
[Orleans.Placement.PreferLocalPlacement]
public sealed class ServiceGrain(
    [PersistentState("service", "sim")] IPersistentState<ServiceAgent> state) : Grain, IServiceGrain, ICheckpointedGrain
{
    public Task ReloadAsync() => state.ReadStateAsync();

    public Task Init(ServiceSetup setup)
    {
        state.State.Init(setup);
        return state.WriteStateAsync();
    }

    public Task<Immutable<ServiceTick>> Reconcile(long nowMs, IReadOnlyList<TaskUpdate> updates, UpdateServiceAction? update, IReadOnlyList<string> unplaceable, int maxStarts) =>
        Task.FromResult(state.State.Reconcile(nowMs, updates, update, unplaceable, maxStarts).AsImmutable());

    public Task UpdateFleet(IReadOnlyList<string> drainingInstances, IReadOnlyList<string> availableZones, bool rebalancing)
    {
        state.State.UpdateFleet(drainingInstances, availableZones, rebalancing);
        return Task.CompletedTask;
    }

    public Task SetTaskProtection(long nowMs, UpdateTaskProtectionAction action)
    {
        state.State.SetTaskProtection(nowMs, action);
        return Task.CompletedTask;
    }

    public Task AddTaskDefinition(TaskDefinitionSpec taskDefinition)
    {
        state.State.AddTaskDefinition(taskDefinition);
        return Task.CompletedTask;
    }

    public Task Checkpoint(long nowMs) => state.WriteStateAsync();
}
