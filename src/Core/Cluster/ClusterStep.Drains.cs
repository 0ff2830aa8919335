using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Cluster;

public sealed partial class ClusterStep
{
    /// <summary>Timeline drains and faults, and zone failures (<see cref="DrainPlanner.FromTimeline"/>).</summary>
    private async Task<List<TaskUpdate>> DrainAndFail(long nowMs, List<DrainInstanceAction> drains, List<string> failedZones, List<SimEvent> events)
    {
        var decisions = DrainPlanner.FromTimeline(_book, drains, failedZones);
        if (decisions.Count == 0)
        {
            return [];
        }
        var reports = await _fleet.Send(decisions.Select(d => (HostCommand)new DrainHost(d.Host, nowMs, d.Cause)).ToList());
        return Absorb(reports, events);
    }

    /// <summary>The patch cycle's in-window replacements (<see cref="DrainPlanner.PatchGrants"/>).</summary>
    private async Task<List<TaskUpdate>> GrantPatchDrains(long nowMs, List<SimEvent> events)
    {
        var grants = DrainPlanner.PatchGrants(Setup.Cluster.CapacityProviders, Index);
        if (grants.Count == 0)
        {
            return [];
        }
        var reports = await _fleet.Send(grants.Select(id => (HostCommand)new GrantPatchDrain(id, nowMs)).ToList());
        return Absorb(reports, events);
    }

    /// <summary>
    /// Consolidation (Managed Instances infrastructure optimization, <see cref="Consolidation"/>): hosts underused for
    /// the provider's delay are drained with reason <c>consolidation</c> when their tasks fit on the other hosts, never
    /// while the provider's tasks wait for capacity, at most <c>maxConcurrent</c> at a time per provider.
    /// </summary>
    private async Task<List<TaskUpdate>> Consolidate(long nowMs, List<SimEvent> events)
    {
        if (NextConsolidationMs() > nowMs)
        {
            return [];
        }
        var s = _book;
        var pinned = ProtectedHostSet();
        var picks = new List<string>();
        foreach (var cp in Setup.Cluster.CapacityProviders.Where(cp => CapacityTypes.Of(cp.Type).Consolidated && cp.InfrastructureOptimization.Enabled))
        {
            var draining = Index.DrainingFor(cp.Name, DrainReasons.Consolidation);
            var waiting = s.Pending.Any(p => p.CapacityProvider == cp.Name);
            if (waiting || (draining > 0 && cp.InfrastructureOptimization.MaxConcurrent <= draining))
            {
                // Nothing can be picked, and no candidate is marked as lacking room: the hosts need not be looked at.
                continue;
            }
            var hosts = s.Views().Where(kv => kv.Value.CapacityProvider == cp.Name).ToList();
            var uses = hosts.Select(kv => UseOf(kv.Key, kv.Value, pinned)).ToList();
            var picked = Consolidation.Pick(uses, nowMs, cp.InfrastructureOptimization, draining, waiting);
            picks.AddRange(picked);
            if (draining == 0 && !waiting)
            {
                // Due candidates left alone had no room for their tasks: they wait until the fleet changes, rather
                // than being looked at again every tick.
                foreach (var use in uses.Where(u => Consolidation.DueMs(u, cp.InfrastructureOptimization) <= nowMs && !picked.Contains(u.Id)))
                {
                    s.Hosts[use.Id].View!.ConsolidationBlockedAt = s.ConsolidationVersion;
                }
            }
        }
        s.ConsolidationCachedAt = -1;
        if (picks.Count == 0)
        {
            return [];
        }
        var cause = DrainCause.Of(DrainReasons.Consolidation);
        var reports = await _fleet.Send(picks.Order(StringComparer.Ordinal).Select(id => (HostCommand)new DrainHost(id, nowMs, cause)).ToList());
        return Absorb(reports, events);
    }

    /// <summary>
    /// The earliest time a host becomes a consolidation candidate, or never. Recomputed only after something it
    /// depends on changed; a candidate blocked for lack of room counts again once anything changes.
    /// </summary>
    private long NextConsolidationMs()
    {
        var s = _book;
        if (s.ConsolidationCachedAt == s.ConsolidationVersion)
        {
            return s.ConsolidationDueMs;
        }
        var next = long.MaxValue;
        HashSet<string>? pinned = null;
        foreach (var id in Index.Underused)
        {
            var view = s.Hosts[id].View!;
            if (view.UnderusedSinceMs == long.MaxValue || view.Status != InstanceStates.Active || view.ConsolidationBlockedAt == s.ConsolidationVersion)
            {
                continue;
            }
            var spec = Provider(view.CapacityProvider).InfrastructureOptimization;
            next = Math.Min(next, Consolidation.DueMs(UseOf(id, view, pinned ??= ProtectedHostSet()), spec));
        }
        s.ConsolidationDueMs = next;
        s.ConsolidationCachedAt = s.ConsolidationVersion;
        return next;
    }

    private static HostUse UseOf(string id, HostView view, HashSet<string> protectedHosts) =>
        new(id, view.Zone, view.Status == InstanceStates.Active, view.LaunchedAtMs, view.Registered, view.Free, view.UnderusedSinceMs,
            view.Standalone || protectedHosts.Contains(id));

    private HashSet<string> ProtectedHostSet() =>
        _book.ProtectedHosts.Values.SelectMany(h => h).ToHashSet(StringComparer.Ordinal);

    /// <summary>Follows a host's reserved share for consolidation (Managed Instances providers that have it on).</summary>
    private void TrackUse(string id, HostView view, InstanceSnapshot snapshot, string previousStatus)
    {
        var cp = Provider(view.CapacityProvider);
        var optimization = cp.InfrastructureOptimization;
        if (!CapacityTypes.Of(cp.Type).Consolidated || !optimization.Enabled)
        {
            return;
        }
        var standalone = snapshot.Groups.Any(g => g.StartsWith("family:", StringComparison.Ordinal));
        if (view.Free == snapshot.Free && view.Standalone == standalone && previousStatus == view.Status && view.Registered != default)
        {
            return;
        }
        view.Registered = new Resources(snapshot.Type.CpuUnits, snapshot.Type.MemoryMiB, snapshot.Type.Gpus);
        view.Free = snapshot.Free;
        view.Standalone = standalone;
        var eligible = view.Status == InstanceStates.Active && snapshot.Active;
        view.UnderusedSinceMs = Consolidation.UnderusedSince(view.UnderusedSinceMs, eligible,
            Consolidation.ReservedPercent(view.Registered, view.Free), optimization.UtilizationThreshold, _nowMs);
        Index.SetUnderused(id, view.UnderusedSinceMs != long.MaxValue);
        _book.ConsolidationVersion++;
    }


    private CapacityProviderSpec Provider(string name) => Setup.Cluster.CapacityProviders.First(cp => cp.Name == name);
}
