using Scheduler.Abstractions;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Grains.Checkpoints;

namespace Scheduler.Grains;

public sealed class ContainerInstanceState
{
    public HostModel? Host { get; set; }
    /// <summary>The run's launch pipeline (scenario overrides), fixed at launch.</summary>
    public LaunchPipeline? Pipeline { get; set; }
}

/// <summary>A container instance (or a Fargate zone pool): accepts batches of tasks and runs their lifecycles on simulated time (pure <see cref="HostModel"/>).</summary>
[Orleans.Placement.RandomPlacement]
public sealed class ContainerInstanceGrain(
    [PersistentState("instance", "sim")] IPersistentState<ContainerInstanceState> state) : Grain, IContainerInstanceGrain, ICheckpointedGrain
{
    public Task ReloadAsync() => state.ReadStateAsync();

    private LaunchPipeline Pipeline => state.State.Pipeline ?? LaunchPipeline.Default;

    private HostModel Host => state.State.Host ?? throw new InvalidOperationException($"instance {this.GetPrimaryKeyString()} was never launched");

    public Task<HostReport> Launch(InstanceLaunch launch, IReadOnlyList<TaskLaunch> tasks)
    {
        var events = new List<SimEvent>();
        if (state.State.Host is null)
        {
            state.State.Pipeline = launch.Pipeline;
            state.State.Host = launch.Fargate
                ? HostModel.FargatePool(launch.Id, launch.Account, launch.Cluster, launch.Zone, launch.CapacityProvider)
                : HostModel.Launch(launch.Id, launch.Account, launch.Cluster, launch.Zone, launch.CapacityProvider,
                    launch.Type, launch.Ami, launch.NowMs, launch.PreRegistered, events);
            state.State.Host.Runtime = launch.Runtime ?? Core.Runtime.RuntimeSettings.Default;
            if (launch.Lifecycle is { } lifecycle)
            {
                state.State.Host.StartLifecycle(lifecycle, Pipeline);
            }
        }
        var refused = Host.Accept(launch.NowMs, tasks, Pipeline);
        return Task.FromResult(Report(events, [], refused));
    }

    public Task<HostReport> Accept(long nowMs, IReadOnlyList<TaskLaunch> tasks)
    {
        var refused = Host.Accept(nowMs, tasks, Pipeline);
        var events = new List<SimEvent>();
        var updates = new List<TaskUpdate>();
        // Steps due now (e.g. no ENI to attach) happen in this tick.
        Host.Advance(nowMs, Pipeline, events, updates);
        return Task.FromResult(Report(events, updates, refused));
    }

    public Task<HostReport> Advance(long nowMs)
    {
        var events = new List<SimEvent>();
        var updates = new List<TaskUpdate>();
        Host.Advance(nowMs, Pipeline, events, updates);
        return Task.FromResult(Report(events, updates, []));
    }

    public Task<HostReport> Stop(long nowMs, IReadOnlyList<string> taskIds, string reason)
    {
        Host.RequestStop(nowMs, taskIds, reason);
        var events = new List<SimEvent>();
        var updates = new List<TaskUpdate>();
        Host.Advance(nowMs, Pipeline, events, updates);
        return Task.FromResult(Report(events, updates, []));
    }

    public Task<HostReport> Drain(long nowMs, string reason)
    {
        var events = new List<SimEvent>();
        var updates = new List<TaskUpdate>();
        switch (reason)
        {
            case DrainReasons.ZoneFailure or DrainReasons.AgentDisconnect:
                // Unreachable: its tasks are lost at once; the services replace them elsewhere.
                Host.Fail(nowMs, reason, events, updates);
                break;
            case DrainReasons.SpotInterruption:
                // The two-minute warning: the host's own clock drains it and reclaims it when the notice runs out.
                Host.SpotInterruptionAtMs = Math.Min(Host.SpotInterruptionAtMs, nowMs);
                break;
            default:
                Host.BeginDrain(nowMs, reason, events);
                break;
        }
        Host.Advance(nowMs, Pipeline, events, updates);
        return Task.FromResult(Report(events, updates, []));
    }

    public Task<HostReport> GrantPatchDrain(long nowMs)
    {
        var events = new List<SimEvent>();
        var updates = new List<TaskUpdate>();
        if (Host.WantsDrain is { } reason)
        {
            Host.BeginDrain(nowMs, reason, events);
        }
        Host.Advance(nowMs, Pipeline, events, updates);
        return Task.FromResult(Report(events, updates, []));
    }

    public Task Checkpoint(long nowMs) => state.WriteStateAsync();

    private HostReport Report(List<SimEvent> events, List<TaskUpdate> updates, List<string> refused) =>
        new(Host.Id, events, updates, Host.NextDueMs, Host.Snapshot(), refused, Host.Status, Host.LaunchedAtMs, Host.WantsDrain, Host.DrainReason);
}
