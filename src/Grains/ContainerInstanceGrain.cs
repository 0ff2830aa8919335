using Orleans.Concurrency;
using Scheduler.Abstractions;
using Scheduler.Core.Cluster;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Grains.Checkpoints;

namespace Scheduler.Grains;

/// <summary>A container instance (or a Fargate zone pool): accepts batches of tasks and runs their lifecycles on simulated time (pure <see cref="InstanceAgent"/>).</summary>
[Orleans.Placement.RandomPlacement]
public sealed class ContainerInstanceGrain(
    [PersistentState("instance", "sim")] IPersistentState<InstanceAgent> state) : Grain, IContainerInstanceGrain, ICheckpointedGrain
{
    public Task ReloadAsync() => state.ReadStateAsync();

    public Task<Immutable<HostReport>> Launch(InstanceLaunch launch, IReadOnlyList<TaskLaunch> tasks) => Reply(new LaunchHost(launch, tasks));

    public Task<Immutable<HostReport>> Accept(long nowMs, IReadOnlyList<TaskLaunch> tasks) => Reply(new AcceptTasks(Id, nowMs, tasks));

    public Task<Immutable<HostReport>> Advance(long nowMs) => Reply(new AdvanceHost(Id, nowMs));

    public Task<Immutable<HostReport>> Stop(long nowMs, IReadOnlyList<string> taskIds, string reason) => Reply(new StopHostTasks(Id, nowMs, taskIds, reason));

    public Task<Immutable<HostReport>> Drain(long nowMs, string reason) => Reply(new DrainHost(Id, nowMs, DrainCause.Of(reason)));

    public Task<Immutable<HostReport>> GrantPatchDrain(long nowMs) => Reply(new GrantPatchDrain(Id, nowMs));

    public Task Checkpoint(long nowMs) => state.WriteStateAsync();

    private string Id => state.State.Host?.Id ?? this.GetPrimaryKeyString();

    private Task<Immutable<HostReport>> Reply(HostCommand command) => Task.FromResult(state.State.Apply(command).AsImmutable());
}
