using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.RateLimits;

namespace Scheduler.Core.Cluster;

/// <summary>
/// The cluster's book: what the cluster knows of its hosts, services, pending tasks and buckets between ticks, as
/// the cluster grain persists it. The sorted host index is a cache of this object only (never persisted): an object
/// read back from a checkpoint builds it again from what it holds.
/// </summary>
public sealed class ClusterBook
{
    public ClusterSetup? Setup { get; set; }
    public bool Started { get; set; }
    public string Ami { get; set; } = "";
    /// <summary>The number of the next instance launched; instance ids are <see cref="InstanceId"/> of it.</summary>
    public long NextInstanceNumber { get; set; } = 1;

    /// <summary>The id of the cluster's <paramref name="number"/>th instance.</summary>
    public static string InstanceId(long number) => $"i-{number:D5}";
    public long NextStandaloneNumber { get; set; } = 1;
    /// <summary>Every host the cluster launched (instances and Fargate zone pools), by id: one entry each.</summary>
    public SortedDictionary<string, ContainerInstanceEntry> Hosts { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Tasks created and not yet placed, in creation order.</summary>
    public List<TaskLaunch> Pending { get; set; } = [];
    /// <summary>Tasks per zone of each spread group (service, or task family for standalone tasks).</summary>
    public SortedDictionary<string, int[]> GroupZoneCounts { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Per service, its tasks per zone that are being replaced or stopped (as of its last reconciliation): placement counts them out.</summary>
    public SortedDictionary<string, SortedDictionary<string, int>> DoomedZoneCounts { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Host capacity changes not yet sent to the placement grain, by host id.</summary>
    public SortedDictionary<string, InstanceSnapshot> Changed { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Failed zones and when they recover.</summary>
    public SortedDictionary<string, long> FailedZones { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The available zones last sent to the services (null = nothing sent yet), so that only changes are sent.</summary>
    public string? LastZones { get; set; }
    /// <summary>Hosts that started or stopped DRAINING since the services were last told (a host that did both is not in it).</summary>
    public SortedSet<string> DrainingToggled { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Services with tasks on a host that started DRAINING since the services were last told.</summary>
    public SortedSet<string> FleetAffected { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Services whose rebalancing waits for the fleet to change (stuck, or a move in flight): every fleet change concerns them.</summary>
    public SortedSet<string> ServicesWatchingFleet { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Each service's deployment-rate bucket (500/min on Fargate, 250/min otherwise).</summary>
    public SortedDictionary<string, TokenBucket> DeploymentBuckets { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Each service's live tasks per capacity provider, for its capacity provider strategy (base, weight).</summary>
    public SortedDictionary<string, SortedDictionary<string, int>> ServiceProviderCounts { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Services still short of desired because their launch allowance ran out: reconciled again next tick.</summary>
    public SortedSet<string> ServicesWaiting { get; set; } = new(StringComparer.Ordinal);
    /// <summary>EC2 managed scaling: when each EC2 capacity provider may take its next scale-out step.</summary>
    public SortedDictionary<string, long> ScaleOutAllowedAtMs { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Services whose launches an account Fargate bucket holds back now: one throttle event per such episode, not one per tick.</summary>
    public SortedSet<string> ServicesThrottled { get; set; } = new(StringComparer.Ordinal);
    /// <summary>When a service must reconcile again by itself (a task's scale-in protection runs out).</summary>
    public SortedDictionary<string, long> ServiceWakeAtMs { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Hosts holding tasks protected from scale-in, per service: consolidation leaves them alone.</summary>
    public SortedDictionary<string, List<string>> ProtectedHosts { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Counts changes of what consolidation looks at (hosts' use and status, protected hosts).</summary>
    public long ConsolidationVersion { get; set; }
    /// <summary>The next time a host becomes a consolidation candidate, as computed at <see cref="ConsolidationCachedAt"/>.</summary>
    public long ConsolidationDueMs { get; set; } = long.MaxValue;
    public long ConsolidationCachedAt { get; set; } = -1;

    /// <summary>Sorted views of the hosts (due times, draining, patch grants), built from the book the first time they are needed.</summary>
    public HostIndex Index() => _index ??= BuildIndex();
    private HostIndex? _index;

    private HostIndex BuildIndex()
    {
        var index = new HostIndex();
        foreach (var (id, host) in Hosts)
        {
            if (host.DueMs is { } due)
            {
                index.SetDue(id, due);
            }
            if (host.View is { } view)
            {
                index.Set(id, view.Facts());
                index.SetUnderused(id, view.UnderusedSinceMs != long.MaxValue);
            }
        }
        return index;
    }

    /// <summary>The host's entry, made (with no zone or provider yet) if the book has none.</summary>
    public ContainerInstanceEntry Host(string id)
    {
        if (!Hosts.TryGetValue(id, out var host))
        {
            Hosts[id] = host = new ContainerInstanceEntry();
        }
        return host;
    }

    /// <summary>Whether the host has reported at least once (it is up, or was).</summary>
    public bool HasReported(string id) => Hosts.TryGetValue(id, out var host) && host.DueMs is not null;

    /// <summary>The ids of the hosts that have reported, in id order.</summary>
    public IEnumerable<string> Reported() => Hosts.Where(kv => kv.Value.DueMs is not null).Select(kv => kv.Key);

    /// <summary>The instances' lifecycle views (Fargate pools have none), in id order.</summary>
    public IEnumerable<KeyValuePair<string, HostView>> Views() =>
        Hosts.Where(kv => kv.Value.View is not null).Select(kv => KeyValuePair.Create(kv.Key, kv.Value.View!));

    /// <summary>The instance's lifecycle view, or null (a Fargate pool, or no report yet).</summary>
    public HostView? ViewOf(string id) => Hosts.TryGetValue(id, out var host) ? host.View : null;
}

/// <summary>
/// One host of the cluster, a container instance or a Fargate zone pool: where it is and whose it is (fixed when it is
/// launched), when it is next due and, for an instance, what its reports say of its lifecycle.
/// </summary>
public sealed class ContainerInstanceEntry
{
    public string Zone { get; set; } = "";
    public string CapacityProvider { get; set; } = "";
    /// <summary>When the host is next due (<see cref="long.MaxValue"/> = never), from its last report; null before its first.</summary>
    public long? DueMs { get; set; }
    /// <summary>What the cluster knows of the instance's lifecycle from its reports; null for a Fargate pool and before the first report.</summary>
    public HostView? View { get; set; }
}

public sealed class HostView
{
    public string Status { get; set; } = InstanceStates.Launching;
    public long LaunchedAtMs { get; set; }
    public string CapacityProvider { get; set; } = "";
    public string Zone { get; set; } = "";
    public string? WantsDrain { get; set; }
    public string? DrainReason { get; set; }
    public Resources Registered { get; set; }
    public Resources Free { get; set; }
    /// <summary>Holds standalone (RunTask) tasks, which are never moved: consolidation leaves it alone.</summary>
    public bool Standalone { get; set; }
    /// <summary>Since when its reserved share has stayed below the consolidation threshold; <see cref="long.MaxValue"/> = not underused.</summary>
    public long UnderusedSinceMs { get; set; } = long.MaxValue;
    /// <summary>Consolidation found no room for its tasks at this <see cref="ClusterBook.ConsolidationVersion"/>: not a candidate until something changes.</summary>
    public long ConsolidationBlockedAt { get; set; } = -1;

    /// <summary>What the host index needs of it.</summary>
    public HostFacts Facts() => new(CapacityProvider, Status, LaunchedAtMs, WantsDrain, DrainReason);
}
