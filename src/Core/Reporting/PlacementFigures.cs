using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Reporting;

/// <summary>
/// The figures that compare placement schedulers, from the event stream alone: conflicts and retries of sharded
/// clusters, tasks placed per scheduler, and how far the services' RUNNING tasks are from an even zone spread.
/// </summary>
public sealed class PlacementFigures
{
    private int _conflicts, _retries;
    private long _placed;
    private readonly SortedDictionary<string, int> _byShard = new(StringComparer.Ordinal);
    /// <summary>RUNNING service tasks per service ("account/cluster/service") and zone.</summary>
    private readonly Dictionary<string, Dictionary<string, int>> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Service, string Zone)> _where = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Account, string Cluster), IReadOnlyList<string>> _zones = [];

    public PlacementFigures(Scenario? scenario = null)
    {
        foreach (var account in scenario?.Accounts ?? [])
        {
            foreach (var cluster in account.Clusters)
            {
                _zones[(account.Id, cluster.Name)] = cluster.Zones;
            }
        }
    }

    public void Observe(SimEvent e)
    {
        switch (e.Kind)
        {
            case EventKinds.Placement:
                _placed += e.Placed;
                _retries += e.Retries;
                if (e.Shard is { } shard)
                {
                    var key = shard.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    _byShard[key] = _byShard.GetValueOrDefault(key) + e.Placed;
                }
                break;
            case EventKinds.Conflict:
                _conflicts++;
                break;
            case EventKinds.Task when e.Service is not null:
                var id = $"{e.Account}/{e.Cluster}/{e.Task}";
                if (e.State == TaskStates.Running && e.Zone is not null && !_where.ContainsKey(id))
                {
                    var service = $"{e.Account}/{e.Cluster}/{e.Service}";
                    _where[id] = (service, e.Zone);
                    var perZone = _running.TryGetValue(service, out var z) ? z : _running[service] = new Dictionary<string, int>(StringComparer.Ordinal);
                    perZone[e.Zone] = perZone.GetValueOrDefault(e.Zone) + 1;
                }
                else if (e.State == TaskStates.Stopped && _where.Remove(id, out var was))
                {
                    _running[was.Service][was.Zone]--;
                }
                break;
        }
    }

    /// <summary>Claims refused at commit time.</summary>
    public int Conflicts => _conflicts;

    /// <summary>Attempts of tasks whose previous claim had conflicted.</summary>
    public int Retries => _retries;

    /// <summary>Conflicts over placement attempts (claims that committed plus claims that conflicted); 0 without attempts.</summary>
    public double ConflictFraction => _placed + _conflicts == 0 ? 0 : Math.Round((double)_conflicts / (_placed + _conflicts), 4);

    /// <summary>Tasks placed by each scheduler of sharded clusters (all clusters summed), by shard number.</summary>
    public SortedDictionary<string, int> PlacedByShard => _byShard;

    /// <summary>
    /// The largest difference, over services, between the zone with the most and the zone with the fewest of the
    /// service's RUNNING tasks (over the cluster's zones) at the end of the run; 0 for an even spread.
    /// </summary>
    public int ZoneSkew()
    {
        var worst = 0;
        foreach (var (service, perZone) in _running)
        {
            var parts = service.Split('/');
            var zones = parts.Length >= 2 && _zones.TryGetValue((parts[0], parts[1]), out var known) ? known : (IReadOnlyList<string>)perZone.Keys.ToList();
            if (perZone.Values.Sum() == 0 || zones.Count == 0)
            {
                continue;
            }
            var counts = zones.Select(z => perZone.GetValueOrDefault(z)).ToList();
            worst = Math.Max(worst, counts.Max() - counts.Min());
        }
        return worst;
    }
}
