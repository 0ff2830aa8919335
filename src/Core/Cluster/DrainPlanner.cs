using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Cluster;

/// <summary>A host the cluster takes out of service this tick, and why.</summary>
public readonly record struct DrainDecision(string Host, DrainCause Cause);

/// <summary>
/// Which hosts leave service this tick, as pure decisions on the cluster's book: timeline drains and faults, zone
/// failures, and the patch cycle's in-window grants. Consolidation's picks are made by <see cref="Consolidation"/>.
/// </summary>
public static class DrainPlanner
{
    /// <summary>
    /// Timeline drains and faults (manual drain, scheduled maintenance, Spot warning, lost agent; <c>any</c> = the oldest
    /// ACTIVE host not already chosen) and zone failures: every host of a failed zone, and its Fargate pool, is lost at
    /// once. A zone failure overrides a drain of the same host; hosts already TERMINATED are left alone. In host id order.
    /// </summary>
    public static List<DrainDecision> FromTimeline(ClusterBook book, IReadOnlyList<DrainInstanceAction> drains, IReadOnlyList<string> failedZones)
    {
        var calls = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var drain in drains)
        {
            var id = drain.Instance == "any"
                ? book.Views().Where(kv => kv.Value.Status == InstanceStates.Active && !calls.ContainsKey(kv.Key))
                    .OrderBy(kv => kv.Value.LaunchedAtMs).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).FirstOrDefault()
                : drain.Instance;
            if (id is not null && book.ViewOf(id) is { } view && view.Status != InstanceStates.Terminated)
            {
                calls.TryAdd(id, drain.Reason);
            }
        }
        foreach (var zone in failedZones)
        {
            foreach (var id in book.Hosts.Where(kv => kv.Value.Zone == zone && kv.Value.DueMs is not null).Select(kv => kv.Key))
            {
                if (book.ViewOf(id) is not { } view || view.Status != InstanceStates.Terminated)
                {
                    calls[id] = DrainReasons.ZoneFailure;
                }
            }
        }
        return calls.Select(kv => new DrainDecision(kv.Key, DrainCause.Of(kv.Value))).ToList();
    }

    /// <summary>
    /// The patch cycle's in-window replacements, at most <c>maxConcurrentReplacements</c> draining at once per
    /// capacity provider (0 = no bound), oldest hosts first, in host id order. A host not granted this window asks
    /// again in the next one, or is replaced anyway from day 21.
    /// </summary>
    public static List<string> PatchGrants(IEnumerable<CapacityProviderSpec> providers, HostIndex index)
    {
        var grants = new List<string>();
        foreach (var cp in providers.Where(cp => CapacityTypes.Of(cp.Type).Patched))
        {
            if (!index.AnyWantingPatchGrant(cp.Name))
            {
                continue;
            }
            var limit = cp.PatchCycle.MaxConcurrentReplacements;
            var wanting = index.WantingPatchGrant(cp.Name);
            grants.AddRange(limit == 0 ? wanting : wanting.Take(Math.Max(0, limit - index.DrainingFor(cp.Name, DrainReasons.PatchDay14))));
        }
        grants.Sort(StringComparer.Ordinal);
        return grants;
    }
}
