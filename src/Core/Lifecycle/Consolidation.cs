using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Lifecycle;

/// <summary>What consolidation needs to know of one Managed Instances host.</summary>
/// <param name="Active">ACTIVE and registered (not launching, draining or gone).</param>
/// <param name="ActiveSinceMs">When it was launched: a host younger than the delay is never consolidated (no flapping).</param>
/// <param name="UnderusedSinceMs">Since when its reserved share has stayed below the threshold; <see cref="long.MaxValue"/> = it is not underused.</param>
/// <param name="Pinned">It holds tasks that would keep it from emptying: standalone (RunTask) tasks or tasks protected from scale-in.</param>
public sealed record HostUse(string Id, string Zone, bool Active, long ActiveSinceMs, Resources Registered, Resources Free, long UnderusedSinceMs, bool Pinned)
{
    public Resources Reserved => Registered - Free;
}

/// <summary>
/// Consolidation (ECS Managed Instances infrastructure optimization): a host of a Managed Instances
/// provider whose reserved share stays below the threshold for the delay is drained with reason <c>consolidation</c>,
/// start before stop, so that its tasks pack onto the provider's other hosts and it terminates once empty. The drain
/// itself keeps every service within minimumHealthyPercent (the services replace, then stop). Pure: the cluster grain
/// tracks how long each host has been underused and asks <see cref="Pick"/> which hosts to drain now.
/// </summary>
public static class Consolidation
{
    /// <summary>The reserved share of a host in percent: the larger of cpu and memory (a host full on either is not underused).</summary>
    public static double ReservedPercent(Resources registered, Resources free)
    {
        var reserved = registered - free;
        var cpu = registered.Cpu <= 0 ? 0 : reserved.Cpu * 100.0 / registered.Cpu;
        var memory = registered.MemoryMiB <= 0 ? 0 : reserved.MemoryMiB * 100.0 / registered.MemoryMiB;
        return Math.Max(cpu, memory);
    }

    /// <summary>
    /// The next value of a host's underused-since mark after a report at <paramref name="nowMs"/>: kept while the
    /// host stays ACTIVE and below the threshold, started now when it falls below, cleared otherwise.
    /// </summary>
    public static long UnderusedSince(long previousMs, bool active, double reservedPercent, double thresholdPercent, long nowMs) =>
        !active || reservedPercent >= thresholdPercent ? long.MaxValue
        : previousMs == long.MaxValue ? nowMs
        : previousMs;

    /// <summary>When a host becomes a candidate (the cluster wakes up then), or never.</summary>
    public static long DueMs(HostUse host, InfrastructureOptimizationSpec spec)
    {
        if (!spec.Enabled || !host.Active || host.Pinned || host.UnderusedSinceMs == long.MaxValue)
        {
            return long.MaxValue;
        }
        var after = (long)spec.ScaleInAfter.TotalMilliseconds;
        return Math.Max(host.UnderusedSinceMs, host.ActiveSinceMs) + after;
    }

    /// <summary>
    /// The hosts of one capacity provider to drain for consolidation now, emptiest first. None while the provider's
    /// tasks wait for capacity (<paramref name="tasksWaiting"/>: consolidating then would only launch a new host), and
    /// at most <c>maxConcurrent</c> consolidation drains at once (<paramref name="alreadyDraining"/> are running).
    /// A host is picked only when the reservations it holds fit into the free room of the provider's other ACTIVE
    /// hosts that stay in its zone (in total, cpu, memory and GPUs alike): placement never gives up zone spread, so
    /// the tasks must be able to pack in the same zone, or consolidating would launch a new host there (and flap).
    /// </summary>
    public static IReadOnlyList<string> Pick(IReadOnlyList<HostUse> hosts, long nowMs, InfrastructureOptimizationSpec spec, int alreadyDraining, bool tasksWaiting)
    {
        var budget = spec.MaxConcurrent - alreadyDraining;
        if (!spec.Enabled || tasksWaiting || budget <= 0)
        {
            return [];
        }
        var candidates = hosts.Where(h => DueMs(h, spec) <= nowMs)
            .OrderBy(h => ReservedPercent(h.Registered, h.Free)).ThenBy(h => h.Id, StringComparer.Ordinal).ToList();
        var picked = new List<string>();
        var leaving = new HashSet<string>(StringComparer.Ordinal);
        // Room the picked hosts' tasks have already claimed on the hosts that stay, per zone.
        var claimedByZone = new Dictionary<string, Resources>(StringComparer.Ordinal);
        foreach (var candidate in candidates)
        {
            if (picked.Count >= budget)
            {
                break;
            }
            var room = default(Resources);
            foreach (var h in hosts)
            {
                if (h.Active && h.Zone == candidate.Zone && h.Id != candidate.Id && !leaving.Contains(h.Id))
                {
                    room += h.Free;
                }
            }
            var claimed = claimedByZone.GetValueOrDefault(candidate.Zone);
            if (!(room - claimed).Fits(candidate.Reserved))
            {
                continue;
            }
            claimedByZone[candidate.Zone] = claimed + candidate.Reserved;
            leaving.Add(candidate.Id);
            picked.Add(candidate.Id);
        }
        return picked;
    }
}
