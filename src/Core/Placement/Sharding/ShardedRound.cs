using Scheduler.Core.Randomness;

namespace Scheduler.Core.Placement.Sharding;

/// <summary>
/// One tick of a cluster's placement split among K schedulers (in the manner of Google's Omega: monolithic,
/// statically partitioned, or shared state with optimistic concurrency). Pure: the same instances, tasks, state and
/// time give the same plan, whoever runs the schedulers and in whatever order their answers arrive.
/// <para>
/// Who owns what: a task belongs to the scheduler of its group (its service, or its task definition family for
/// standalone tasks), so a service's tasks and its zone spread are one scheduler's business. The cluster's groups
/// in name order are dealt out in turn (group i to scheduler i mod K); a group the cluster did not declare (a
/// service created during the run) goes by a stable hash of its name. In partitioned mode an instance belongs to
/// the scheduler that launched it; any other instance, when the schedulers first see it (in id order), goes to the
/// scheduler that owns the fewest instances in its zone (the lowest-numbered on a tie), so every scheduler has
/// hosts in every zone. Each may launch an even share of what the capacity provider may run.
/// </para>
/// <para>
/// Decision time: a scheduler busy for <c>d</c> decides once every <c>ceil(d / tick)</c> ticks (scheduler k on the
/// ticks that are k modulo that period, so they take turns), and its snapshot is <c>d</c> old: the claims other
/// schedulers committed in the last <c>d</c> (this tick's earlier ones included when <c>d</c> &gt; 0) are missing
/// from it. With <c>d</c> = 0 the schedulers decide one after another on the freshest state, and cannot conflict.
/// </para>
/// <para>
/// Commits: the schedulers commit in shard order, whatever order their plans came in. A claim on an instance is a
/// conflict when the task no longer fits there (<see cref="ConflictDetection.Fine"/>), or when a claim missing from
/// the snapshot touched that instance (<see cref="ConflictDetection.Coarse"/>); the task waits for a later tick.
/// New instances are the scheduler's own, so they never conflict; the provider's instance count is shared state
/// that every scheduler sees fresh (a scheduler never launches past the provider's maximum).
/// </para>
/// Use: <see cref="Deciding"/> in order, <see cref="Input"/> then <see cref="Commit"/> for each, then <see cref="Finish"/>.
/// </summary>
public sealed class ShardedRound
{
    public const string WhyBusy = "its scheduler is still busy with an earlier decision";
    public const string ConflictNoLongerFits = "no longer fits: another scheduler took the room since the snapshot";
    public const string ConflictChanged = "the instance changed since the snapshot";
    public const string ConflictGone = "the instance is gone";

    private readonly ShardingSpec _spec;
    private readonly PlacementOptions _options;
    private readonly long _nowMs;
    private readonly Func<long, string> _instanceId;
    private long _nextNumber;
    private readonly SortedDictionary<string, InstanceSnapshot> _current = new(StringComparer.Ordinal);
    private readonly List<PendingTask>[] _pending;
    private readonly Dictionary<string, PendingTask> _tasks = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<ShardClaim> _prior;
    private readonly List<ShardClaim> _claims = [];
    private readonly SortedDictionary<string, int> _owners = new(StringComparer.Ordinal);
    private readonly HashSet<string> _conflicted = new(StringComparer.Ordinal);
    private readonly HashSet<string> _conflictedBefore;
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _launched = new(StringComparer.Ordinal);
    private readonly ShardOutcome?[] _outcomes;
    private readonly List<int> _deciding = [];
    private int _next;
    private int _inputFor = -1;
    private HashSet<string> _changed = new(StringComparer.Ordinal);

    /// <param name="instances">The cluster's placement view now (every scheduler's earlier commits included).</param>
    /// <param name="nextInstanceNumber">The number the first new instance of this tick gets (see <paramref name="instanceId"/>).</param>
    /// <param name="instanceId">An instance's id from its number; the default is the cluster's <c>i-00042</c>.</param>
    /// <param name="groups">The cluster's declared groups (see <see cref="Groups"/>); null: every group by hash.</param>
    public ShardedRound(IReadOnlyList<InstanceSnapshot> instances, IReadOnlyList<PendingTask> pending, PlacementOptions options,
        ShardingSpec spec, ShardingState state, long nowMs, long tickMs, long nextInstanceNumber, Func<long, string>? instanceId = null,
        IReadOnlyList<string>? groups = null)
    {
        if (spec.Shards < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), "at least one shard");
        }
        _spec = spec;
        _options = options;
        _nowMs = nowMs;
        _nextNumber = nextInstanceNumber;
        _instanceId = instanceId ?? (n => $"i-{n:D5}");
        _prior = state.Recent;
        foreach (var i in instances)
        {
            _current[i.Id] = i;
            _running[i.CapacityProvider] = _running.GetValueOrDefault(i.CapacityProvider) + 1;
        }
        foreach (var o in state.Owners)
        {
            _owners[o.InstanceId] = o.Shard;
        }
        if (spec.Mode == ShardingMode.Partitioned)
        {
            AssignOwners();
        }
        if (groups is not null)
        {
            var ordered = groups.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            for (var k = 0; k < ordered.Count; k++)
            {
                _groupShard[ordered[k]] = k % spec.Shards;
            }
        }
        _conflictedBefore = new HashSet<string>(state.Conflicted, StringComparer.Ordinal);
        _pending = new List<PendingTask>[spec.Shards];
        for (var k = 0; k < spec.Shards; k++)
        {
            _pending[k] = [];
        }
        foreach (var t in pending)
        {
            _tasks[t.TaskId] = t;
            _pending[ShardOfGroup(t.Group)].Add(t);
        }
        _outcomes = new ShardOutcome?[spec.Shards];
        var period = Period(spec, tickMs);
        var tick = nowMs / Math.Max(1, tickMs);
        for (var k = 0; k < spec.Shards; k++)
        {
            if (_pending[k].Count > 0 && (tick - k) % period == 0)
            {
                _deciding.Add(k);
            }
        }
    }

    private readonly Dictionary<string, int> _groupShard = new(StringComparer.Ordinal);

    /// <summary>The scheduler that places a group's tasks.</summary>
    public int ShardOfGroup(string group) => _groupShard.TryGetValue(group, out var k) ? k : ShardOf(group, _spec.Shards);

    /// <summary>The groups a cluster declares: its services, and the families of its task definitions (for standalone tasks).</summary>
    public static IReadOnlyList<string> Groups(Scenarios.ClusterSpec cluster) =>
        cluster.Services.Select(s => s.Name).Concat(cluster.TaskDefinitions.Select(d => Engine.TaskLaunches.FamilyGroup(d.Family)))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Instances not owned yet go, in id order, to the scheduler with the fewest instances in their zone.</summary>
    private void AssignOwners()
    {
        var perZone = new Dictionary<string, int[]>(StringComparer.Ordinal);
        int[] Counts(string zone) => perZone.TryGetValue(zone, out var c) ? c : perZone[zone] = new int[_spec.Shards];
        foreach (var i in _current.Values)
        {
            if (_owners.TryGetValue(i.Id, out var k) && k < _spec.Shards)
            {
                Counts(i.Zone)[k]++;
            }
        }
        foreach (var i in _current.Values)
        {
            if (_owners.TryGetValue(i.Id, out var owner) && owner < _spec.Shards)
            {
                continue;
            }
            var counts = Counts(i.Zone);
            var best = 0;
            for (var k = 1; k < counts.Length; k++)
            {
                if (counts[k] < counts[best])
                {
                    best = k;
                }
            }
            _owners[i.Id] = best;
            counts[best]++;
        }
    }

    /// <summary>The schedulers that decide this tick (busy ones and those without tasks do not), in shard order.</summary>
    public IReadOnlyList<int> Deciding => _deciding;

    /// <summary>The scheduler a task group (service or standalone task definition) belongs to: a stable hash, the same in every run.</summary>
    public static int ShardOf(string key, int shards) =>
        shards <= 1 ? 0 : (int)(DeterministicRandom.NextUInt64(0, key, "placement-shard", 0) % (ulong)shards);

    /// <summary>How many ticks one decision takes (at least one).</summary>
    public static long Period(ShardingSpec spec, long tickMs) =>
        Math.Max(1, (spec.DecisionTimeMs + Math.Max(1, tickMs) - 1) / Math.Max(1, tickMs));

    /// <summary>The scheduler that owns an instance in partitioned mode.</summary>
    public int OwnerOf(string instanceId) => _owners.GetValueOrDefault(instanceId);

    /// <summary>What scheduler <paramref name="shard"/> plans on: call in <see cref="Deciding"/> order, each after the previous one's commit.</summary>
    public ShardInput Input(int shard)
    {
        if (_next >= _deciding.Count || _deciding[_next] != shard || _inputFor == shard)
        {
            throw new InvalidOperationException($"shard {shard} is not the next to decide");
        }
        _inputFor = shard;
        Flush();
        // Claims by the others that are younger than the decision time: this scheduler's snapshot predates them.
        var hidden = new Dictionary<string, List<ShardClaim>>(StringComparer.Ordinal);
        var hiddenNew = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in _prior.Concat(_claims))
        {
            if (c.Shard == shard || c.TimeMs <= _nowMs - _spec.DecisionTimeMs)
            {
                continue;
            }
            if (c.NewInstance)
            {
                hiddenNew.Add(c.InstanceId);
            }
            else
            {
                (hidden.TryGetValue(c.InstanceId, out var list) ? list : hidden[c.InstanceId] = []).Add(c);
            }
        }
        _changed = new HashSet<string>(hidden.Keys, StringComparer.Ordinal);
        _changed.UnionWith(hiddenNew);
        var partitioned = _spec.Mode == ShardingMode.Partitioned;
        var snapshot = new List<InstanceSnapshot>(_current.Count);
        foreach (var i in _current.Values)
        {
            if ((partitioned && OwnerOf(i.Id) != shard) || hiddenNew.Contains(i.Id))
            {
                continue;
            }
            snapshot.Add(hidden.TryGetValue(i.Id, out var missing) ? Without(i, missing) : i);
        }
        var providers = new Dictionary<string, CapacityProviderPlacement>(StringComparer.Ordinal);
        foreach (var (name, cp) in _options.CapacityProviders)
        {
            var remaining = Math.Max(0, cp.RemainingInstances - _launched.GetValueOrDefault(name));
            if (partitioned)
            {
                // An even share of what the provider may run (what runs now plus what it may still launch).
                var total = cp.RemainingInstances + _running.GetValueOrDefault(name);
                var share = total / _spec.Shards + (shard < total % _spec.Shards ? 1 : 0);
                var owned = _current.Values.Count(i => i.CapacityProvider == name && OwnerOf(i.Id) == shard);
                remaining = Math.Min(remaining, Math.Max(0, share - owned));
            }
            providers[name] = cp.RemainingInstances == remaining ? cp : cp with { RemainingInstances = remaining };
        }
        var options = _options with { CapacityProviders = providers, NewInstancePrefix = $"{_options.NewInstancePrefix}{shard}-" };
        return new ShardInput(shard, snapshot, _pending[shard], options);
    }

    /// <summary>Commits scheduler <paramref name="shard"/>'s plan (made on <see cref="Input"/>) against the cluster as it is now.</summary>
    public void Commit(int shard, PlacementPlan plan)
    {
        if (_inputFor != shard || _next >= _deciding.Count || _deciding[_next] != shard)
        {
            throw new InvalidOperationException($"shard {shard} has no input to commit against");
        }
        _next++;
        var partitioned = _spec.Mode == ShardingMode.Partitioned;
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        var newInstances = new List<NewInstanceRequest>(plan.NewInstances.Count);
        foreach (var n in plan.NewInstances)
        {
            var id = _instanceId(_nextNumber++);
            ids[n.Id] = id;
            newInstances.Add(n with { Id = id });
            _current[id] = new InstanceSnapshot
            {
                Id = id, Zone = n.Zone, CapacityProvider = n.CapacityProvider, Type = n.Type, Active = false, Launching = true,
                Free = new Resources(n.Type.CpuUnits, n.Type.MemoryMiB, n.Type.Gpus),
            };
            _launched[n.CapacityProvider] = _launched.GetValueOrDefault(n.CapacityProvider) + 1;
            _claims.Add(new ShardClaim(_nowMs, shard, id, default, [], NewInstance: true));
            if (partitioned)
            {
                _owners[id] = shard;
            }
        }
        var retries = 0;
        foreach (var t in _pending[shard])
        {
            if (_conflictedBefore.Contains(t.TaskId))
            {
                retries++;
            }
        }
        var assignments = new List<TaskAssignment>(plan.Assignments.Count);
        var unplaced = new List<UnplacedTask>(plan.Unplaced);
        var conflicts = new List<PlacementConflict>();
        foreach (var a in plan.Assignments)
        {
            var task = _tasks[a.TaskId];
            var id = a.NewInstance ? ids[a.InstanceId] : a.InstanceId;
            string? why = null;
            if (!_current.TryGetValue(id, out var on))
            {
                why = ConflictGone;
            }
            else if (!a.NewInstance && _spec.Conflict == ConflictDetection.Coarse && _changed.Contains(id))
            {
                why = ConflictChanged;
            }
            else if (!FitsNow(on!, task))
            {
                why = ConflictNoLongerFits;
            }
            if (why is not null)
            {
                conflicts.Add(new PlacementConflict(shard, task.TaskId, id, why));
                unplaced.Add(new UnplacedTask(task.TaskId, $"placement conflict: {why}", Permanent: false));
                _conflicted.Add(task.TaskId);
                continue;
            }
            TakeNow(on!, task);
            _claims.Add(new ShardClaim(_nowMs, shard, id, task.Need, task.HostPorts));
            assignments.Add(a.NewInstance ? a with { InstanceId = id } : a);
        }
        _outcomes[shard] = new ShardOutcome(shard, true, _pending[shard].Count, new PlacementPlan(assignments, newInstances, unplaced), conflicts, retries);
    }

    /// <summary>The merged plan and the state for the next tick; every scheduler in <see cref="Deciding"/> must have committed.</summary>
    public ShardedPlacementResult Finish()
    {
        if (_next != _deciding.Count)
        {
            throw new InvalidOperationException($"shard {_deciding[_next]} has not committed");
        }
        var assignments = new List<TaskAssignment>();
        var newInstances = new List<NewInstanceRequest>();
        var unplaced = new List<UnplacedTask>();
        var outcomes = new List<ShardOutcome>(_spec.Shards);
        for (var k = 0; k < _spec.Shards; k++)
        {
            var outcome = _outcomes[k] ?? new ShardOutcome(k, false, _pending[k].Count,
                new PlacementPlan([], [], _pending[k].Select(t => new UnplacedTask(t.TaskId, WhyBusy, Permanent: false)).ToList()), [], 0);
            outcomes.Add(outcome);
            assignments.AddRange(outcome.Committed.Assignments);
            newInstances.AddRange(outcome.Committed.NewInstances);
            unplaced.AddRange(outcome.Committed.Unplaced);
        }
        var keepAfter = _nowMs - _spec.DecisionTimeMs;
        var decided = new HashSet<string>(_deciding.SelectMany(k => _pending[k]).Select(t => t.TaskId), StringComparer.Ordinal);
        var conflicted = _conflictedBefore.Where(id => _tasks.ContainsKey(id) && !decided.Contains(id)).Concat(_conflicted)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var next = new ShardingState
        {
            Recent = _spec.DecisionTimeMs <= 0 ? [] : _prior.Concat(_claims).Where(c => c.TimeMs > keepAfter).ToList(),
            Owners = _spec.Mode != ShardingMode.Partitioned ? []
                : _owners.Where(kv => _current.ContainsKey(kv.Key)).Select(kv => new InstanceOwner(kv.Key, kv.Value)).ToList(),
            Conflicted = conflicted,
        };
        return new ShardedPlacementResult(new PlacementPlan(assignments, newInstances, unplaced), outcomes, next);
    }

    /// <summary>
    /// Claims committed on an instance since its snapshot in <see cref="_current"/> was last brought up to date: kept
    /// as running totals, so that a hundred claims on one host build its new snapshot once, not a hundred times.
    /// </summary>
    private sealed class Taken
    {
        public Resources Free;
        public HashSet<int>? Ports;
        public HashSet<string>? Groups;
        public HashSet<string>? Images;
    }

    private readonly Dictionary<string, Taken> _taken = new(StringComparer.Ordinal);

    private bool FitsNow(InstanceSnapshot i, PendingTask t)
    {
        if (!_taken.TryGetValue(i.Id, out var taken))
        {
            return Fits(i, t);
        }
        if (!(i.Active || i.Launching) || !taken.Free.Fits(t.Need))
        {
            return false;
        }
        foreach (var p in t.HostPorts)
        {
            if (i.UsedHostPorts.Contains(p) || (taken.Ports?.Contains(p) ?? false))
            {
                return false;
            }
        }
        return !(t.DistinctInstance && (i.Groups.Contains(t.Group) || (taken.Groups?.Contains(t.Group) ?? false)));
    }

    private void TakeNow(InstanceSnapshot i, PendingTask t)
    {
        if (!_taken.TryGetValue(i.Id, out var taken))
        {
            _taken[i.Id] = taken = new Taken { Free = i.Free };
        }
        taken.Free -= t.Need;
        if (t.HostPorts.Count > 0)
        {
            (taken.Ports ??= []).UnionWith(t.HostPorts);
        }
        if (!i.Groups.Contains(t.Group))
        {
            (taken.Groups ??= new HashSet<string>(StringComparer.Ordinal)).Add(t.Group);
        }
        foreach (var image in t.Images)
        {
            if (!i.CachedImages.Contains(image))
            {
                (taken.Images ??= new HashSet<string>(StringComparer.Ordinal)).Add(image);
            }
        }
    }

    /// <summary>Brings the snapshots of the instances claimed since the last flush up to date.</summary>
    private void Flush()
    {
        foreach (var (id, taken) in _taken)
        {
            var i = _current[id];
            _current[id] = i with
            {
                Free = taken.Free,
                UsedHostPorts = taken.Ports is null ? i.UsedHostPorts : i.UsedHostPorts.Union(taken.Ports).Order().ToArray(),
                Groups = taken.Groups is null ? i.Groups : i.Groups.Concat(taken.Groups).Order(StringComparer.Ordinal).ToArray(),
                CachedImages = taken.Images is null ? i.CachedImages : i.CachedImages.Concat(taken.Images).Order(StringComparer.Ordinal).ToArray(),
            };
        }
        _taken.Clear();
    }

    /// <summary>Whether the task may go on the instance as it is now: room, free host ports, distinctInstance, and a state that takes tasks.</summary>
    public static bool Fits(InstanceSnapshot i, PendingTask t)
    {
        if (!(i.Active || i.Launching) || !i.Free.Fits(t.Need))
        {
            return false;
        }
        foreach (var p in t.HostPorts)
        {
            if (i.UsedHostPorts.Contains(p))
            {
                return false;
            }
        }
        return !(t.DistinctInstance && i.Groups.Contains(t.Group));
    }

    /// <summary>The instance with the task's reservation, ports, group and images added (as the placement view records a plan).</summary>
    public static InstanceSnapshot Take(InstanceSnapshot i, PendingTask t) => i with
    {
        Free = i.Free - t.Need,
        UsedHostPorts = t.HostPorts.Count == 0 ? i.UsedHostPorts : i.UsedHostPorts.Union(t.HostPorts).Order().ToArray(),
        Groups = i.Groups.Contains(t.Group) ? i.Groups : i.Groups.Append(t.Group).Order(StringComparer.Ordinal).ToArray(),
        CachedImages = t.Images.All(i.CachedImages.Contains) ? i.CachedImages : i.CachedImages.Union(t.Images).Order(StringComparer.Ordinal).ToArray(),
    };

    /// <summary>The instance as it was before the claims: their room given back (never beyond what it registered) and their ports free.</summary>
    private static InstanceSnapshot Without(InstanceSnapshot i, List<ShardClaim> claims)
    {
        var free = i.Free;
        var ports = new HashSet<int>();
        foreach (var c in claims)
        {
            free += c.Need;
            ports.UnionWith(c.Ports);
        }
        var full = new Resources(i.Type.CpuUnits, i.Type.MemoryMiB, i.Type.Gpus);
        free = new Resources(Math.Min(free.Cpu, full.Cpu), Math.Min(free.MemoryMiB, full.MemoryMiB), Math.Min(free.Gpus, full.Gpus));
        return i with
        {
            Free = free,
            UsedHostPorts = ports.Count == 0 ? i.UsedHostPorts : i.UsedHostPorts.Where(p => !ports.Contains(p)).ToArray(),
        };
    }
}

/// <summary>A sharded tick with every scheduler run here, one after another.</summary>
public static class ShardedPlacement
{
    public static ShardedPlacementResult Place(IReadOnlyList<InstanceSnapshot> instances, IReadOnlyList<PendingTask> pending,
        PlacementOptions options, ShardingSpec spec, ShardingState state, long nowMs, long tickMs, long nextInstanceNumber,
        Func<long, string>? instanceId = null, IReadOnlyList<string>? groups = null)
    {
        var round = new ShardedRound(instances, pending, options, spec, state, nowMs, tickMs, nextInstanceNumber, instanceId, groups);
        foreach (var k in round.Deciding)
        {
            var input = round.Input(k);
            round.Commit(k, PlacementEngine.Place(input.Instances, input.Pending, input.Options));
        }
        return round.Finish();
    }
}
