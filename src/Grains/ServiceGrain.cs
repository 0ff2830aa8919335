using Scheduler.Abstractions;
using Scheduler.Core.Engine;
using Scheduler.Core.Runtime;
using Scheduler.Core.Scenarios;

namespace Scheduler.Grains;

public sealed class ServiceGrainState
{
    public ServiceSetup? Setup { get; set; }
    public ServiceModel? Model { get; set; }
}

/// <summary>A service: applies its tasks' updates and API changes, then reconciles desired against actual (pure <see cref="ServiceModel"/>).</summary>
public sealed class ServiceGrain(
    [PersistentState("service", "sim")] IPersistentState<ServiceGrainState> state) : Grain, IServiceGrain
{
    public Task Init(ServiceSetup setup)
    {
        state.State.Setup = setup;
        state.State.Model = new ServiceModel
        {
            Name = setup.Service.Name,
            TaskDefinition = setup.Service.TaskDefinition,
            DesiredCount = setup.Service.DesiredCount,
            HasHealthCheck = setup.HasHealthCheck,
            MinimumHealthyPercent = setup.Service.Deployment.MinimumHealthyPercent,
            MaximumPercent = setup.Service.Deployment.MaximumPercent,
            Breaker = new DeploymentCircuitBreaker
            {
                Enabled = setup.Service.Deployment.CircuitBreakerEnabled,
                Rollback = setup.Service.Deployment.CircuitBreakerRollback,
                Deployment = setup.Service.TaskDefinition,
            },
        };
        return state.WriteStateAsync();
    }

    public Task<ServiceTick> Reconcile(long nowMs, IReadOnlyList<TaskUpdate> updates, UpdateServiceAction? update, IReadOnlyList<string> unplaceable, int maxStarts)
    {
        var setup = state.State.Setup ?? throw new InvalidOperationException("service not initialised");
        var model = state.State.Model!;
        var policy = setup.Backoff ?? RuntimeSettings.Default.Backoff;
        ServiceStability.Observe(model, updates, nowMs);
        foreach (var u in updates)
        {
            model.Apply(u);
        }
        foreach (var id in unplaceable)
        {
            model.Forget(id);
        }
        if (update is not null)
        {
            if (update.DesiredCount is { } desired)
            {
                model.DesiredCount = desired;
            }
            if (update.TaskDefinition is { } td)
            {
                model.TaskDefinition = td;
            }
            if (update.TaskDefinition is not null || update.ForceNewDeployment)
            {
                // A new revision or a force-new-deployment starts a new deployment and clears the throttle.
                ServiceStability.StartDeployment(model, model.TaskDefinition);
            }
        }
        ServiceStability.Settle(model);
        maxStarts = ServiceStability.Allowance(model, policy, nowMs, maxStarts, out var retryAtMs);
        // A task that could not be placed anywhere is not retried in a loop: the service waits for the
        // next change (an API call) before it tries again.
        var decision = unplaceable.Count > 0 ? new ServiceDecision([], []) : model.Reconcile(maxStarts);
        var events = new List<SimEvent>();
        var changedCounts = model.TakeChangedCounts();
        var backoffChanged = ServiceStability.TakeChangedBackoff(model, policy, out var backoffSeconds);
        if (changedCounts is not null || backoffChanged)
        {
            var counts = changedCounts ?? (model.DesiredCount, model.Running, model.Healthy);
            events.Add(new SimEvent
            {
                TimeMs = nowMs, Kind = EventKinds.Service, Account = setup.Account, Cluster = setup.Cluster,
                Service = model.Name, Desired = counts.Desired, Running = counts.Running, Healthy = counts.Healthy,
                Deployment = model.TaskDefinition, BackoffSeconds = backoffSeconds,
            });
        }
        // Throttled with tasks still to start: the cluster looks again when the backoff ends.
        var retry = decision.Backlog > 0 ? retryAtMs : 0;
        return Task.FromResult(new ServiceTick(decision.Start, decision.Stop, events, model.TaskDefinition, decision.Backlog, retry));
    }

    public Task UpdateFleet(IReadOnlyList<string> drainingInstances, IReadOnlyList<string> availableZones, bool rebalancing)
    {
        var model = state.State.Model ?? throw new InvalidOperationException("service not initialised");
        model.UpdateFleet(drainingInstances, availableZones, rebalancing);
        return Task.CompletedTask;
    }

    public Task Checkpoint(long nowMs) => state.WriteStateAsync();
}
