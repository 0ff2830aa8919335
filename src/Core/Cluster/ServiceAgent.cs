using Scheduler.Core.Engine;
using Scheduler.Core.Runtime;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Cluster;

/// <summary>
/// One service's side of the cluster's messages: its <see cref="ServiceModel"/>, and what a reconciliation, a fleet
/// change or a protection change does to it. The service grain persists it; a test can hold many in memory.
/// </summary>
public sealed class ServiceAgent
{
    public ServiceSetup? Setup { get; set; }
    public ServiceModel? Model { get; set; }

    private ServiceSetup SetupOrThrow => Setup ?? throw new InvalidOperationException("service not initialised");

    private ServiceModel ModelOrThrow => Model ?? throw new InvalidOperationException("service not initialised");

    public void Init(ServiceSetup setup)
    {
        Setup = setup;
        var (taskDefinition, hasHealthCheck) = Resolve(setup, setup.Service.TaskDefinition);
        Model = new ServiceModel
        {
            Name = setup.Service.Name,
            TaskDefinition = taskDefinition,
            DesiredCount = setup.Service.DesiredCount,
            HasHealthCheck = hasHealthCheck ?? setup.HasHealthCheck,
            MinimumHealthyPercent = setup.Service.Deployment.MinimumHealthyPercent,
            MaximumPercent = setup.Service.Deployment.MaximumPercent,
            ProtectNewTasks = setup.Service.ProtectedFromScaleIn,
            Breaker = new DeploymentCircuitBreaker
            {
                Enabled = setup.Service.Deployment.CircuitBreakerEnabled,
                Rollback = setup.Service.Deployment.CircuitBreakerRollback,
                Deployment = taskDefinition,
            },
        };
    }

    /// <summary>A task definition reference as "family:revision" (the latest revision for a bare family), and whether it has a health check.</summary>
    private static (string TaskDefinition, bool? HasHealthCheck) Resolve(ServiceSetup setup, string reference)
    {
        if (setup.TaskDefinitions is null || TaskLaunches.Resolve(setup.TaskDefinitions, reference) is not { } def)
        {
            return (reference, null);
        }
        return ($"{def.Family}:{def.Revision}", def.Containers.Any(c => c.Essential && c.HealthCheck is not null));
    }

    /// <summary>
    /// Applies task updates, tasks that could not be placed and an optional API change, then reconciles desired
    /// against actual within <paramref name="maxStarts"/> (this workflow cycle's launch allowance).
    /// </summary>
    public ServiceTick Reconcile(long nowMs, IReadOnlyList<TaskUpdate> updates, UpdateServiceAction? update, IReadOnlyList<string> unplaceable, int maxStarts)
    {
        var setup = SetupOrThrow;
        var model = ModelOrThrow;
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
        var deployed = false;
        if (update is not null)
        {
            if (update.DesiredCount is { } desired)
            {
                model.DesiredCount = desired;
            }
            if (update.TaskDefinition is not null || update.ForceNewDeployment)
            {
                // A new revision, or forceNewDeployment: a new deployment replaces every task (rolling update).
                var (td, hasHealthCheck) = update.TaskDefinition is { } reference ? Resolve(setup, reference) : (model.TaskDefinition, null);
                deployed = model.Deploy(td, update.ForceNewDeployment, hasHealthCheck);
            }
            if (deployed)
            {
                // A new revision or a force-new-deployment clears the throttle and re-arms the circuit breaker.
                ServiceStability.StartDeployment(model, model.TaskDefinition);
            }
        }
        if (ServiceStability.Settle(model) is { } rolledBack)
        {
            // The circuit breaker rolled the service back: a new deployment of the last completed revision.
            deployed = true;
            model.HasHealthCheck = Resolve(setup, rolledBack).HasHealthCheck ?? model.HasHealthCheck;
        }
        maxStarts = ServiceStability.Allowance(model, policy, nowMs, maxStarts, out var retryAtMs);
        // A task that could not be placed anywhere is not retried in a loop: the service waits for the
        // next change (an API call) before it tries again.
        var decision = unplaceable.Count > 0 && !deployed ? new ServiceDecision([], []) : model.Reconcile(maxStarts, nowMs);
        var events = new List<SimEvent>();
        var census = model.Census();
        var changedCounts = model.TakeChangedCounts(census.Running, census.Healthy);
        var backoffChanged = ServiceStability.TakeChangedBackoff(model, policy, out var backoffSeconds);
        if (changedCounts is not null || backoffChanged)
        {
            var counts = changedCounts ?? (model.DesiredCount, model.Running, model.Healthy);
            events.Add(new SimEvent
            {
                TimeMs = nowMs, Kind = EventKinds.Service, Account = setup.Account, Cluster = setup.Cluster,
                Service = model.Name, Desired = counts.Desired, Running = counts.Running, Healthy = counts.Healthy,
                Deployment = model.DeploymentId, BackoffSeconds = backoffSeconds,
            });
        }
        // Null = no protected task (the common case, computed cheaply).
        var protectedHosts = census.AnyProtection ? model.ProtectedInstances(nowMs) : null;
        // Throttled (or its deployment failed): the tasks still to start wait for the backoff to end, and the cluster
        // looks again then (the wake time), not every tick.
        var throttled = retryAtMs > nowMs;
        var wake = throttled && decision.Backlog > 0 ? Math.Min(decision.WakeAtMs, retryAtMs) : decision.WakeAtMs;
        return new ServiceTick(decision.Start, decision.Stop, events, model.TaskDefinition, throttled ? 0 : decision.Backlog,
            wake, protectedHosts, census.Doomed,
            WatchesFleet: model.WatchesFleet || decision.Start.Count > 0 || decision.Stop.Count > 0 || unplaceable.Count > 0);
    }

    /// <summary>The cluster's draining hosts and the zones this service may use changed.</summary>
    public void UpdateFleet(IReadOnlyList<string> drainingInstances, IReadOnlyList<string> availableZones, bool rebalancing) =>
        ModelOrThrow.UpdateFleet(drainingInstances, availableZones, rebalancing);

    /// <summary>UpdateTaskProtection (scale-in protection) for some or all of the service's tasks.</summary>
    public void SetTaskProtection(long nowMs, UpdateTaskProtectionAction action) =>
        ModelOrThrow.Protect(action.Tasks, action.ProtectionEnabled, nowMs + (long)action.ExpiresIn.TotalMilliseconds);

    /// <summary>A task definition registered after the service was created (an UpdateService may name it).</summary>
    public void AddTaskDefinition(TaskDefinitionSpec taskDefinition)
    {
        var setup = SetupOrThrow;
        Setup = setup with { TaskDefinitions = [.. setup.TaskDefinitions ?? [], taskDefinition] };
    }
}
