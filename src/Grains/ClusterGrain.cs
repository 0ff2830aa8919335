using Orleans.Concurrency;
using Scheduler.Abstractions;
using Scheduler.Core.Cluster;
using Scheduler.Core.Diagnostics;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;
using Scheduler.Grains.Checkpoints;

namespace Scheduler.Grains;

/// <summary>
/// One cluster's scheduling tick, as a shell around the pure <see cref="ClusterStep"/>: the step decides each wave of
/// the tick on the cluster's book, and this grain carries the waves out as grain calls (the hosts, services, buckets
/// and placement view of the cluster), in parallel within a wave, and checkpoints what it called.
/// </summary>
[Orleans.Placement.HashBasedPlacement]
public sealed class ClusterGrain(
    [PersistentState("cluster", "sim")] IPersistentState<ClusterBook> state) : Grain, IClusterGrain, ICheckpointedGrain, IClusterFleet
{
    // The book holds its own cached views (never persisted): reading the state back drops them with the old object.
    public Task ReloadAsync() => state.ReadStateAsync();

    private ClusterSetup Setup => state.State.Setup ?? throw new InvalidOperationException("cluster not initialised");
    private string Key => this.GetPrimaryKeyString();

    /// <summary>Pending tasks this activation last reported to the <c>scheduler.tasks.pending</c> meter.</summary>
    private long _pendingReported;

    public async Task Init(ClusterSetup setup)
    {
        await new ClusterStep(state.State, this).Init(setup);
        await state.WriteStateAsync();
    }

    public async Task<ShardTick> Tick(long nowMs, IReadOnlyList<TimelineAction> inputs)
    {
        using var span = SchedulerDiagnostics.StartTick(Key, nowMs);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var tick = await new ClusterStep(state.State, this).Tick(nowMs, inputs);
        _pendingReported = SchedulerDiagnostics.TickDone(tick.Events, state.State.Pending.Count, _pendingReported, started, span);
        return new ShardTick(tick.NextDueMs, tick.Events);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        SchedulerDiagnostics.TasksPending.Add(-_pendingReported);
        _pendingReported = 0;
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>
    /// Writes the grains this cluster called since its last checkpoint (the others have not changed), its
    /// placement grain, then itself.
    /// </summary>
    public async Task Checkpoint(long nowMs)
    {
        await Task.WhenAll(_calledHosts.Select(id => HostGrain(id).Checkpoint(nowMs))
            .Concat(_calledServices.Select(name => ServiceGrain(name).Checkpoint(nowMs)))
            .Concat(_calledBuckets.Select(name => BucketGrain(name).Checkpoint(nowMs)))
            .Append(Placement().Checkpoint(nowMs)));
        await state.WriteStateAsync();
        _calledHosts.Clear();
        _calledServices.Clear();
        _calledBuckets.Clear();
    }

    // Grains called since the last checkpoint. In memory only: after a reactivation every grain is at the last checkpoint.
    private readonly HashSet<string> _calledHosts = new(StringComparer.Ordinal);
    private readonly HashSet<string> _calledServices = new(StringComparer.Ordinal);
    private readonly HashSet<string> _calledBuckets = new(StringComparer.Ordinal);

    // The fleet of the step: each batch becomes one call per grain, all in flight at once.

    public async Task<IReadOnlyList<HostReport>> Send(IReadOnlyList<HostCommand> commands)
    {
        var replies = await Task.WhenAll(commands.Select(Send));
        return Array.ConvertAll(replies, r => r.Value);
    }

    private Task<Immutable<HostReport>> Send(HostCommand command)
    {
        var host = Host(command.Host);
        return command switch
        {
            LaunchHost l => host.Launch(l.Launch, l.Tasks),
            AcceptTasks a => host.Accept(a.NowMs, a.Tasks),
            AdvanceHost a => host.Advance(a.NowMs),
            StopHostTasks s => host.Stop(s.NowMs, s.Tasks, s.Reason),
            DrainHost d => host.Drain(d.NowMs, d.Cause.Reason),
            GrantPatchDrain g => host.GrantPatchDrain(g.NowMs),
            _ => throw new ArgumentException($"unknown host command {command.GetType().Name}", nameof(command)),
        };
    }

    public Task InitServices(IReadOnlyList<ServiceSetup> services) => Task.WhenAll(services.Select(s => Service(s.Service.Name).Init(s)));

    public async Task<IReadOnlyList<ServiceTick>> Reconcile(IReadOnlyList<ServiceCall> calls)
    {
        var replies = await Task.WhenAll(calls.Select(c => Service(c.Service).Reconcile(c.NowMs, c.Updates, c.Update, c.Unplaceable, c.MaxStarts)));
        return Array.ConvertAll(replies, r => r.Value);
    }

    public Task UpdateFleet(IReadOnlyList<FleetNews> news) =>
        Task.WhenAll(news.Select(n => Service(n.Service).UpdateFleet(n.DrainingInstances, n.AvailableZones, n.Rebalancing)));

    public Task SetTaskProtection(string service, long nowMs, UpdateTaskProtectionAction action) => Service(service).SetTaskProtection(nowMs, action);

    public Task AddTaskDefinition(IReadOnlyList<string> services, TaskDefinitionSpec taskDefinition) =>
        Task.WhenAll(services.Select(name => Service(name).AddTaskDefinition(taskDefinition)));

    public Task<int> TryAcquire(string bucket, long nowMs, int requested, BucketLimit limit) => Bucket(bucket).TryAcquire(nowMs, requested, limit);

    public Task<int> Available(string bucket, long nowMs, BucketLimit limit) => Bucket(bucket).Available(nowMs, limit);

    public Task<IReadOnlyList<long>> Reserve(string bucket, long nowMs, int count, BucketLimit limit) => Bucket(bucket).Reserve(nowMs, count, limit);

    public Task InitPlacement(ClusterSetup setup) => Placement().Init(setup);

    public async Task<PlacementPlan> Place(long nowMs, PlacementRequest request) => (await Placement().Place(nowMs, request)).Plan;

    private IRateLimitBucketGrain Bucket(string bucket)
    {
        _calledBuckets.Add(bucket);
        return BucketGrain(bucket);
    }

    private IRateLimitBucketGrain BucketGrain(string bucket) =>
        GrainFactory.GetGrain<IRateLimitBucketGrain>(Keys.Bucket(Setup.Run.RunId, Setup.Account, bucket));

    private IServiceGrain Service(string name)
    {
        _calledServices.Add(name);
        return ServiceGrain(name);
    }

    private IContainerInstanceGrain Host(string id)
    {
        _calledHosts.Add(id);
        return HostGrain(id);
    }

    // Grain references by name: resolving one costs far more than a lookup, and a tick calls thousands of hosts.
    // In memory only; a reference is the same whatever activation resolved it.
    private readonly Dictionary<string, IServiceGrain> _serviceGrains = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IContainerInstanceGrain> _hostGrains = new(StringComparer.Ordinal);

    private IServiceGrain ServiceGrain(string name)
    {
        if (!_serviceGrains.TryGetValue(name, out var grain))
        {
            _serviceGrains[name] = grain = GrainFactory.GetGrain<IServiceGrain>(Keys.Child(Key, "svc/" + name));
        }
        return grain;
    }

    private IContainerInstanceGrain HostGrain(string id)
    {
        if (!_hostGrains.TryGetValue(id, out var grain))
        {
            _hostGrains[id] = grain = GrainFactory.GetGrain<IContainerInstanceGrain>(Keys.Child(Key, id));
        }
        return grain;
    }

    private IPlacementGrain Placement() => GrainFactory.GetGrain<IPlacementGrain>(Key);
}
