namespace Scheduler.Core.Workloads;

/// <summary>The fields of a <c>task</c> event that trace accounting reads.</summary>
public sealed record TaskEventView(string Task, string State, string? Service, string? StartedBy, string? Reason);

public enum PodOutcome { Placed, Unplaceable, NotSeen, NeverPlaced }

/// <summary>
/// Checks a run's event log against a trace replay plan: each pod must be placed (one of its tasks reached PENDING or
/// later on capacity) or reported unplaceable (a STOPPED event whose reason starts with "Unplaceable"). A pod is found by
/// its service (service-mapped pods: the service is named after the pod) or by <c>startedBy</c> (RunTask-mapped pods).
/// </summary>
public static class TraceAccounting
{
    public static IReadOnlyDictionary<string, PodOutcome> Classify(IEnumerable<PodPlan> pods, IEnumerable<TaskEventView> taskEvents)
    {
        var outcome = new SortedDictionary<string, PodOutcome>(StringComparer.Ordinal);
        var byService = new Dictionary<string, string>(StringComparer.Ordinal);
        var byStartedBy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in pods)
        {
            outcome[p.Pod] = PodOutcome.NotSeen;
            (p.Mapping == PodMapping.Service ? byService : byStartedBy)[p.Pod] = p.Pod;
        }
        foreach (var e in taskEvents)
        {
            string? pod = null;
            if (e.Service is { } s && byService.TryGetValue(s, out var ps))
            {
                pod = ps;
            }
            else if (e.Service is null && e.StartedBy is { } sb && byStartedBy.TryGetValue(sb, out var pr))
            {
                pod = pr;
            }
            if (pod is null || outcome[pod] == PodOutcome.Placed)
            {
                continue;
            }
            if (e.State is "PENDING" or "ACTIVATING" or "RUNNING")
            {
                outcome[pod] = PodOutcome.Placed;
            }
            else if (e.State == "STOPPED" && e.Reason is { } r && r.StartsWith("Unplaceable", StringComparison.OrdinalIgnoreCase))
            {
                outcome[pod] = PodOutcome.Unplaceable;
            }
            else if (outcome[pod] == PodOutcome.NotSeen)
            {
                outcome[pod] = PodOutcome.NeverPlaced;
            }
        }
        return outcome;
    }
}
