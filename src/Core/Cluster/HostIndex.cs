using Scheduler.Core.Engine;

namespace Scheduler.Core.Cluster;

/// <summary>What the cluster's indexes need to know of one host's lifecycle (from its last report).</summary>
public readonly record struct HostFacts(string CapacityProvider, string Status, long LaunchedAtMs, string? WantsDrain, string? DrainReason)
{
    /// <summary>Asks for a patch replacement that the cluster has not granted yet.</summary>
    public bool WantsPatchGrant => WantsDrain is not null && Status != InstanceStates.Draining && Status != InstanceStates.Terminated;
}

/// <summary>
/// Sorted views of the cluster's hosts kept up to date one host at a time, so that a tick's questions (which
/// hosts are due, which drain, which wait for a patch grant, how many drain for a reason) cost in proportion
/// to the answer rather than to the fleet. Derived from the hosts' reports only: rebuilt from them after a
/// reactivation, never persisted.
/// </summary>
public sealed class HostIndex
{
    private readonly SortedSet<(long DueMs, string Id)> _due = new(DueOrder.Instance);
    private readonly Dictionary<string, long> _dueOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HostFacts> _facts = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _draining = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<(long LaunchedAtMs, string Id)>> _wanting = new(StringComparer.Ordinal);
    private readonly Dictionary<(string CapacityProvider, string Reason), int> _drainingFor = [];

    /// <summary>The hosts that are DRAINING now, in id order.</summary>
    public IReadOnlyCollection<string> Draining => _draining;

    /// <summary>Records a host's next due time (<see cref="long.MaxValue"/> = never).</summary>
    public void SetDue(string id, long dueMs)
    {
        if (_dueOf.TryGetValue(id, out var was))
        {
            if (was == dueMs)
            {
                return;
            }
            _due.Remove((was, id));
        }
        _dueOf[id] = dueMs;
        _due.Add((dueMs, id));
    }

    /// <summary>The earliest due time of any host, or <see cref="long.MaxValue"/>.</summary>
    public long NextDueMs => _due.Count == 0 ? long.MaxValue : _due.Min.DueMs;

    /// <summary>The hosts due at or before <paramref name="nowMs"/>, in id order.</summary>
    public List<string> DueAt(long nowMs)
    {
        var ids = new List<string>();
        foreach (var (due, id) in _due)
        {
            if (due > nowMs)
            {
                break;
            }
            ids.Add(id);
        }
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    /// <summary>Records a host's lifecycle facts after a report.</summary>
    public void Set(string id, HostFacts facts)
    {
        if (_facts.TryGetValue(id, out var was))
        {
            if (was == facts)
            {
                return;
            }
            Remove(id, was);
        }
        _facts[id] = facts;
        if (facts.Status == InstanceStates.Draining)
        {
            _draining.Add(id);
            if (facts.DrainReason is { } reason)
            {
                _drainingFor[(facts.CapacityProvider, reason)] = _drainingFor.GetValueOrDefault((facts.CapacityProvider, reason)) + 1;
            }
        }
        if (facts.WantsPatchGrant)
        {
            if (!_wanting.TryGetValue(facts.CapacityProvider, out var set))
            {
                _wanting[facts.CapacityProvider] = set = new SortedSet<(long, string)>(LaunchOrder.Instance);
            }
            set.Add((facts.LaunchedAtMs, id));
        }
    }

    private void Remove(string id, HostFacts was)
    {
        if (was.Status == InstanceStates.Draining)
        {
            _draining.Remove(id);
            if (was.DrainReason is { } reason)
            {
                _drainingFor[(was.CapacityProvider, reason)]--;
            }
        }
        if (was.WantsPatchGrant)
        {
            _wanting[was.CapacityProvider].Remove((was.LaunchedAtMs, id));
        }
    }

    private readonly SortedSet<string> _underused = new(StringComparer.Ordinal);

    /// <summary>Hosts whose reserved share is below their provider's consolidation threshold now, in id order.</summary>
    public IReadOnlyCollection<string> Underused => _underused;

    /// <summary>Records whether a host is underused (a consolidation candidate once the delay has passed).</summary>
    public void SetUnderused(string id, bool underused)
    {
        if (underused)
        {
            _underused.Add(id);
        }
        else
        {
            _underused.Remove(id);
        }
    }

    /// <summary>Whether the host is DRAINING now.</summary>
    public bool IsDraining(string id) => _draining.Contains(id);

    /// <summary>Hosts of a capacity provider DRAINING for <paramref name="reason"/>.</summary>
    public int DrainingFor(string capacityProvider, string reason) => _drainingFor.GetValueOrDefault((capacityProvider, reason));

    /// <summary>The hosts of a capacity provider waiting for a patch grant, oldest first (then by id).</summary>
    public IEnumerable<string> WantingPatchGrant(string capacityProvider) =>
        _wanting.TryGetValue(capacityProvider, out var set) ? set.Select(x => x.Id) : [];

    /// <summary>Whether any host of the capacity provider waits for a patch grant.</summary>
    public bool AnyWantingPatchGrant(string capacityProvider) => _wanting.TryGetValue(capacityProvider, out var set) && set.Count > 0;

    /// <summary>Drains for patching are granted in this order: the oldest host first, ties by id.</summary>
    private sealed class LaunchOrder : IComparer<(long LaunchedAtMs, string Id)>
    {
        public static readonly LaunchOrder Instance = new();

        public int Compare((long LaunchedAtMs, string Id) x, (long LaunchedAtMs, string Id) y)
        {
            var c = x.LaunchedAtMs.CompareTo(y.LaunchedAtMs);
            return c != 0 ? c : string.CompareOrdinal(x.Id, y.Id);
        }
    }

    private sealed class DueOrder : IComparer<(long DueMs, string Id)>
    {
        public static readonly DueOrder Instance = new();

        public int Compare((long DueMs, string Id) x, (long DueMs, string Id) y)
        {
            var c = x.DueMs.CompareTo(y.DueMs);
            return c != 0 ? c : string.CompareOrdinal(x.Id, y.Id);
        }
    }
}
