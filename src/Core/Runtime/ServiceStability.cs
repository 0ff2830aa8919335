using Scheduler.Core.Engine;

namespace Scheduler.Core.Runtime;

/// <summary>
/// Task monitoring on the service's side: the service throttle (exponential, bounded
/// backoff of a service whose tasks keep failing to become stable) and the deployment circuit breaker. Pure
/// functions over <see cref="ServiceModel"/>; the service grain calls them around reconciliation.
/// </summary>
public static class ServiceStability
{
    /// <summary>
    /// Takes a tick's task updates (before <see cref="ServiceModel.Apply"/> forgets stopped tasks). Order-free
    /// within a tick: a task that became stable clears the count first, then every failure of this tick counts.
    /// </summary>
    public static void Observe(ServiceModel model, IReadOnlyList<TaskUpdate> updates, long nowMs)
    {
        var owned = updates.Where(u => model.Tasks.ContainsKey(u.TaskId)).ToList();
        if (owned.Any(u => u.Stable))
        {
            model.Backoff = ServiceBackoff.None;
        }
        foreach (var u in owned.Where(u => u.Unstable))
        {
            model.Backoff = model.Backoff.Failed(nowMs);
            if (model.Tasks[u.TaskId].Deployment == model.Deployment)
            {
                // The breaker watches the current deployment's tasks only.
                model.Breaker = model.Breaker.TaskFailed(model.DesiredCount);
            }
        }
    }

    /// <summary>
    /// After the updates are applied: a deployment whose desired tasks are all RUNNING and healthy (none of an
    /// earlier deployment left) completes; a tripped breaker with rollback deploys the last completed task
    /// definition again (a new deployment whose rolling update replaces the failed one's tasks; throttle cleared).
    /// Returns the task definition rolled back to, or null.
    /// </summary>
    public static string? Settle(ServiceModel model)
    {
        if (model.Breaker.Status == DeploymentStatus.InProgress && model.DesiredCount > 0 && model.Healthy >= model.DesiredCount && model.Outdated == 0)
        {
            model.Breaker = model.Breaker.Complete();
        }
        if (model.Breaker.RollbackTarget is { } target)
        {
            model.Deploy(target, force: false);
            StartDeployment(model, target);
            return target;
        }
        return null;
    }

    /// <summary>A new task definition revision or a force-new-deployment: a new deployment, throttle cleared.</summary>
    public static void StartDeployment(ServiceModel model, string taskDefinition)
    {
        model.Backoff = ServiceBackoff.None;
        model.Breaker = model.Breaker.Start(taskDefinition);
    }

    /// <summary>
    /// How many tasks the service may start now: none while throttled or after its deployment failed (without
    /// rollback), else the cycle's allowance. <paramref name="retryAtMs"/> is when to look again (never after a
    /// failed deployment, until the next one).
    /// </summary>
    public static int Allowance(ServiceModel model, BackoffPolicy policy, long nowMs, int maxStarts, out long retryAtMs)
    {
        retryAtMs = 0;
        if (model.Breaker.Status == DeploymentStatus.Failed)
        {
            retryAtMs = long.MaxValue;
            return 0;
        }
        var next = model.Backoff.NextLaunchAtMs(policy);
        if (nowMs < next)
        {
            retryAtMs = next;
            return 0;
        }
        return maxStarts;
    }

    /// <summary>The throttle delay for the service event's <c>backoffSeconds</c>, and whether it changed since last reported.</summary>
    public static bool TakeChangedBackoff(ServiceModel model, BackoffPolicy policy, out double backoffSeconds)
    {
        var delay = model.Backoff.DelayMs(policy);
        backoffSeconds = delay / 1000.0;
        if (delay == model.ReportedBackoffMs)
        {
            return false;
        }
        model.ReportedBackoffMs = delay;
        return true;
    }
}
