using Scheduler.Core.Catalog;

namespace Scheduler.Core.Placement;

/// <summary>
/// The three placement phases of a scheduling tick as a pure function of
/// (instances, pending tasks, options) to a plan:
/// <list type="number">
/// <item>Existing capacity: each task goes to a zone where its group has the fewest tasks and an ACTIVE
/// instance satisfies every constraint; inside the zone, the instances with the task's image cached first
/// (whether or not they already run the group), then round-robin over the instances holding the fewest
/// tasks of the group.</item>
/// <item>New capacity: when no zone with the fewest tasks has room and the capacity provider can launch,
/// the task is assigned to new capacity in that zone, so the spread holds (it is never traded for
/// packing). A provider that cannot launch places where capacity allows instead.</item>
/// <item>Bin-packing: per provider and zone, the tasks for new capacity are packed First Fit Decreasing
/// onto new instances of the largest suitable type (the one needing the fewest hosts for them, then the
/// cheapest); a batch that fits on one host gets the cheapest type that holds it and has at least a quarter
/// of the largest type's vCPUs. Instances launched by earlier ticks and still launching are filled first.
/// The task that opens an instance counts as phase 2, the ones packed after it as 3.</item>
/// </list>
/// Tasks with the same group, provider, needs and constraints are interchangeable and are handled as one
/// class; the plan is deterministic for a given input order.
/// </summary>
public static class PlacementEngine
{
    public const string WhyExisting = "existing capacity: a zone with the fewest tasks of its group, then the instance with the fewest";
    public const string WhyExistingUneven = "existing capacity: the provider cannot launch, so the least-loaded zone with room";
    public const string WhyNewInstance = "new capacity: opened a new instance in the zone the spread needs";
    public const string WhyPacked = "bin-packing: first fit onto a new instance opened this tick";
    public const string WhyLaunching = "bin-packing: first fit onto an instance still launching";

    public static PlacementPlan Place(IReadOnlyList<InstanceSnapshot> instances, IReadOnlyList<PendingTask> pending, PlacementOptions options) =>
        new PlacementRun(instances, options, SmallestNeed(pending)).Run(pending);

    /// <summary>The least cpu, memory and GPUs any of the tasks needs (each on its own), or null for no tasks.</summary>
    internal static Resources? SmallestNeed(IReadOnlyList<PendingTask> pending)
    {
        if (pending.Count == 0)
        {
            return null;
        }
        int cpu = int.MaxValue, gpus = int.MaxValue;
        var memory = long.MaxValue;
        foreach (var t in pending)
        {
            cpu = Math.Min(cpu, t.Need.Cpu);
            memory = Math.Min(memory, t.Need.MemoryMiB);
            gpus = Math.Min(gpus, t.Need.Gpus);
        }
        return new Resources(cpu, memory, gpus);
    }

    /// <summary>
    /// Why <paramref name="taskId"/> went where it went: the plan's decision for it, and how every instance
    /// looked to it at the start of the tick (instances taken by earlier tasks of the same tick are not shown
    /// as taken). <paramref name="plan"/> is the plan as carried out, when the caller has it (with its own
    /// instance ids, or trimmed by a scaling allowance); otherwise the phases run here.
    /// </summary>
    public static TaskExplanation? Explain(string taskId, IReadOnlyList<InstanceSnapshot> instances, IReadOnlyList<PendingTask> pending,
        PlacementOptions options, PlacementPlan? plan = null)
    {
        var task = pending.FirstOrDefault(p => p.TaskId == taskId);
        if (task is null)
        {
            return null;
        }
        plan ??= Place(instances, pending, options);
        var assignment = plan.Assignments.FirstOrDefault(a => a.TaskId == taskId);
        var unplaced = plan.Unplaced.FirstOrDefault(u => u.TaskId == taskId);
        var newInstance = assignment is { NewInstance: true } ? plan.NewInstances.First(n => n.Id == assignment.InstanceId) : null;
        var memberOf = task.MemberOf is null ? null : MemberOfExpression.Parse(task.MemberOf);
        var rejections = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var i in instances.OrderBy(i => i.Id, StringComparer.Ordinal))
        {
            var why = Rejection(i, task, memberOf, options);
            if (why is not null)
            {
                (rejections.TryGetValue(why, out var ids) ? ids : rejections[why] = []).Add(i.Id);
            }
        }
        var counts = options.GroupZoneCounts.TryGetValue(task.Group, out var c) ? c : new int[options.Zones.Count];
        return new TaskExplanation(task, assignment, newInstance, unplaced,
            options.Zones.Select((z, k) => (z, k)).ToDictionary(x => x.z, x => k(x.k, counts), StringComparer.Ordinal),
            rejections.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal));

        static int k(int index, int[] counts) => index < counts.Length ? counts[index] : 0;
    }

    /// <summary>Why an instance cannot take a task at all, or null if it can.</summary>
    internal static string? Rejection(InstanceSnapshot i, PendingTask t, MemberOfExpression? memberOf, PlacementOptions options)
    {
        if (i.CapacityProvider != t.CapacityProvider)
        {
            return $"other capacity provider";
        }
        if (!i.Active)
        {
            return "not ACTIVE (launching or draining)";
        }
        if (options.UnavailableZones.Contains(i.Zone))
        {
            return "zone unavailable";
        }
        if (memberOf is not null && !memberOf.Matches(a => Attribute(i, a)))
        {
            return $"memberOf '{memberOf.Text}' not satisfied";
        }
        if (t.DistinctInstance && i.Groups.Contains(t.Group))
        {
            return "distinctInstance: already runs a task of the group";
        }
        if (t.HostPorts.Any(p => i.UsedHostPorts.Contains(p)))
        {
            return "host port in use";
        }
        if (i.Free.Cpu < t.Need.Cpu)
        {
            return "not enough cpu";
        }
        if (i.Free.MemoryMiB < t.Need.MemoryMiB)
        {
            return "not enough memory";
        }
        return i.Free.Gpus < t.Need.Gpus ? "not enough GPUs" : null;
    }

    internal static string? Attribute(InstanceSnapshot i, string name) =>
        i.Attributes.TryGetValue(name, out var v) ? v : MemberOfExpression.BuiltInAttribute(name, i.Type.Name, i.Type.Family, i.Zone);
}

/// <summary>What <see cref="PlacementEngine.Explain"/> reports for one task.</summary>
public sealed record TaskExplanation(
    PendingTask Task,
    TaskAssignment? Assignment,
    NewInstanceRequest? NewInstance,
    UnplacedTask? Unplaced,
    IReadOnlyDictionary<string, int> GroupZoneCountsBefore,
    IReadOnlyDictionary<string, IReadOnlyList<string>> RejectedInstances)
{
    /// <summary>A few lines for a person.</summary>
    public IEnumerable<string> Lines()
    {
        var t = Task;
        yield return $"task {t.TaskId} (group {t.Group}, capacity provider {t.CapacityProvider}, needs {t.Need.Cpu} cpu, {t.Need.MemoryMiB} MiB, {t.Need.Gpus} GPUs"
            + (t.HostPorts.Count > 0 ? $", host ports {string.Join(",", t.HostPorts)}" : "")
            + (t.DistinctInstance ? ", distinctInstance" : "")
            + (t.MemberOf is null ? "" : $", memberOf '{t.MemberOf}'") + ")";
        yield return "  tasks of the group per zone before: " + string.Join(", ", GroupZoneCountsBefore.Select(kv => $"{kv.Key}={kv.Value}"));
        if (Assignment is { } a)
        {
            yield return $"  phase {(int)a.Phase} ({a.Phase}): {a.InstanceId}"
                + (NewInstance is { } n ? $", a new {n.Type.Name} in zone {n.Zone}" : "") + $" — {a.Why}";
        }
        if (Unplaced is { } u)
        {
            yield return $"  not placed ({(u.Permanent ? "permanently" : "this tick")}): {u.Reason}";
        }
        foreach (var (reason, ids) in RejectedInstances)
        {
            var sample = string.Join(", ", ids.Take(5)) + (ids.Count > 5 ? ", ..." : "");
            yield return $"  rejected {ids.Count} instance(s): {reason} ({sample})";
        }
    }
}

/// <summary>One placement computation; holds the mutable view of the cluster for the duration of a tick.</summary>
internal sealed class PlacementRun
{
    private sealed class Slot(InstanceSnapshot snapshot, int zone)
    {
        // Plain fields and arrays: the candidate scan reads these for every instance it visits.
        public readonly InstanceSnapshot Snapshot = snapshot;
        public readonly int Zone = zone;
        public readonly bool Active = snapshot.Active;
        private readonly string[] _groups = [.. snapshot.Groups];
        public Resources Free = snapshot.Free;
        public HashSet<int>? PortsTaken;
        public HashSet<string>? GroupsAdded;

        public bool HasGroup(string group)
        {
            foreach (var g in _groups)
            {
                if (string.Equals(g, group, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            return GroupsAdded?.Contains(group) ?? false;
        }

        public bool PortsFree(IReadOnlyList<int> ports)
        {
            foreach (var p in ports)
            {
                if (Snapshot.UsedHostPorts.Contains(p) || (PortsTaken?.Contains(p) ?? false))
                {
                    return false;
                }
            }
            return true;
        }

        public void Take(PendingTask t)
        {
            Free -= t.Need;
            if (t.HostPorts.Count > 0)
            {
                PortsTaken ??= [];
                PortsTaken.UnionWith(t.HostPorts);
            }
            if (t.DistinctInstance)
            {
                (GroupsAdded ??= new HashSet<string>(StringComparer.Ordinal)).Add(t.Group);
            }
        }
    }

    /// <summary>A new instance being filled in phases 2 and 3.</summary>
    private sealed class Bin(string id, InstanceType type)
    {
        public string Id { get; } = id;
        public InstanceType Type { get; } = type;
        public Resources Free { get; set; } = new(type.CpuUnits, type.MemoryMiB, type.Gpus);
        public HashSet<int> Ports { get; } = [];
        public HashSet<string> DistinctGroups { get; } = new(StringComparer.Ordinal);
        /// <summary>An instance launched by an earlier tick and not registered yet (the slot it came from), or null for a new one.</summary>
        public Slot? Launching { get; init; }

        public static Bin From(Slot slot)
        {
            var bin = new Bin(slot.Snapshot.Id, slot.Snapshot.Type) { Free = slot.Free, Launching = slot };
            bin.Ports.UnionWith(slot.Snapshot.UsedHostPorts);
            bin.DistinctGroups.UnionWith(slot.Snapshot.Groups);
            return bin;
        }
    }

    private readonly record struct ClassKey(string Group, string CapacityProvider, Resources Need, string Ports, string Images, bool Distinct, string? MemberOf);

    private readonly PlacementOptions _options;
    private readonly IReadOnlyList<string> _zones;
    private readonly bool[] _zoneUp;
    private readonly Slot[] _slots;
    private readonly Dictionary<string, List<int>[]> _byProviderZone = new(StringComparer.Ordinal);
    /// <summary>Every instance of each provider in a known zone, candidate or not (whether a task could ever fit).</summary>
    private readonly Dictionary<string, List<InstanceSnapshot>> _everyByProvider = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int[]> _groupCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _remaining = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MemberOfExpression> _expressions = new(StringComparer.Ordinal);
    private readonly List<TaskAssignment> _assignments = [];
    private readonly List<NewInstanceRequest> _newInstances = [];
    private readonly List<UnplacedTask> _unplaced = [];
    /// <summary>Tasks waiting for new capacity, per provider and zone, in the order they were deferred.</summary>
    private readonly Dictionary<(string Provider, int Zone), List<PendingTask>> _deferred = [];
    private readonly List<(string Provider, int Zone)> _deferredOrder = [];
    /// <summary>Instances by an image they have cached, and by a group they hold a task of (from the snapshot).</summary>
    private readonly Dictionary<string, List<int>> _byImage = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<int>> _byGroup = new(StringComparer.Ordinal);
    /// <summary>Where the next class starts scanning each provider's zone.</summary>
    private readonly Dictionary<(string Provider, int Zone), int> _cursor = [];
    /// <summary>Instances still launching, per provider and zone, in id order: phase 3 fills them before opening new ones.</summary>
    private readonly Dictionary<(string Provider, int Zone), List<int>> _launching = [];
    /// <summary>The class that last took each instance as a candidate (so a class sees an instance once).</summary>
    private readonly int[] _stamp;
    private int _classStamp;

    /// <summary>
    /// Builds the run's view. Only instances that could take a task this run get a slot: ACTIVE ones with room for
    /// <paramref name="smallestNeed"/> (free room only shrinks during a run, and a task needs at least that much), and
    /// those still launching (phase 3 fills them). On a full fleet that is a small part of it, and the candidate scans
    /// see the same instances in the same order as over every instance.
    /// </summary>
    public PlacementRun(IReadOnlyList<InstanceSnapshot> instances, PlacementOptions options, Resources? smallestNeed = null)
    {
        _options = options;
        _zones = options.Zones;
        _zoneUp = _zones.Select(z => !options.UnavailableZones.Contains(z)).ToArray();
        var zoneIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var z = 0; z < _zones.Count; z++)
        {
            zoneIndex[_zones[z]] = z;
        }
        var ordered = IsSorted(instances) ? instances : instances.OrderBy(i => i.Id, StringComparer.Ordinal).ToList();
        var slots = new List<Slot>();
        foreach (var i in ordered)
        {
            var z = zoneIndex.TryGetValue(i.Zone, out var found) ? found : -1;
            if (z >= 0)
            {
                (_everyByProvider.TryGetValue(i.CapacityProvider, out var every) ? every : _everyByProvider[i.CapacityProvider] = []).Add(i);
            }
            if (smallestNeed is { } least && !(i.Launching && !i.Active) && !(i.Active && i.Free.Fits(least)))
            {
                // Never a candidate in this run: not ACTIVE, or too full for any of its tasks.
                continue;
            }
            var k = slots.Count;
            slots.Add(new Slot(i, z));
            if (z < 0)
            {
                continue;
            }
            if (!_byProviderZone.TryGetValue(i.CapacityProvider, out var perZone))
            {
                _byProviderZone[i.CapacityProvider] = perZone = new List<int>[_zones.Count];
                for (var zz = 0; zz < perZone.Length; zz++)
                {
                    perZone[zz] = [];
                }
            }
            perZone[z].Add(k);
            if (i.Launching && !i.Active)
            {
                (_launching.TryGetValue((i.CapacityProvider, z), out var launching) ? launching : _launching[(i.CapacityProvider, z)] = []).Add(k);
            }
            foreach (var image in i.CachedImages)
            {
                (_byImage.TryGetValue(image, out var list) ? list : _byImage[image] = []).Add(k);
            }
            foreach (var group in i.Groups)
            {
                (_byGroup.TryGetValue(group, out var list) ? list : _byGroup[group] = []).Add(k);
            }
        }
        _slots = [.. slots];
        _stamp = new int[_slots.Length];
        foreach (var (name, cp) in options.CapacityProviders)
        {
            _remaining[name] = cp.RemainingInstances;
        }
    }

    private static bool IsSorted(IReadOnlyList<InstanceSnapshot> instances)
    {
        for (var k = 1; k < instances.Count; k++)
        {
            if (string.CompareOrdinal(instances[k - 1].Id, instances[k].Id) > 0)
            {
                return false;
            }
        }
        return true;
    }

    public PlacementPlan Run(IReadOnlyList<PendingTask> pending)
    {
        // Classes of interchangeable tasks, in order of first appearance.
        var classes = new Dictionary<ClassKey, List<PendingTask>>();
        var order = new List<List<PendingTask>>();
        foreach (var t in pending)
        {
            var key = new ClassKey(t.Group, t.CapacityProvider, t.Need,
                t.HostPorts.Count == 0 ? "" : string.Join(",", t.HostPorts),
                t.Images.Count switch { 0 => "", 1 => t.Images[0], _ => string.Join("\n", t.Images) }, t.DistinctInstance, t.MemberOf);
            if (!classes.TryGetValue(key, out var list))
            {
                classes[key] = list = [];
                order.Add(list);
            }
            list.Add(t);
        }
        // Phase 1 runs class by class; what does not fit is deferred to the zones that keep the spread (the
        // availability decision of phase 2). Then each deferred zone opens new instances and packs them (phases 2, 3).
        using (var phase1 = Diagnostics.SchedulerDiagnostics.Source.StartActivity("placement.phase1"))
        {
            foreach (var tasks in order)
            {
                PlaceClass(tasks);
            }
            phase1?.SetTag("scheduler.placed", _assignments.Count);
        }
        using (var phase23 = Diagnostics.SchedulerDiagnostics.Source.StartActivity("placement.phase2-3"))
        {
            var before = _assignments.Count;
            foreach (var key in _deferredOrder)
            {
                Pack(key.Provider, key.Zone, _deferred[key]);
            }
            phase23?.SetTag("scheduler.placed", _assignments.Count - before);
            phase23?.SetTag("scheduler.instances_requested", _newInstances.Count);
        }
        return new PlacementPlan(_assignments, _newInstances, _unplaced);
    }

    private MemberOfExpression? Expression(string? text)
    {
        if (text is null)
        {
            return null;
        }
        if (!_expressions.TryGetValue(text, out var e))
        {
            _expressions[text] = e = MemberOfExpression.TryParse(text, out _) ?? MemberOfExpression.Parse("attribute:never exists");
        }
        return e;
    }

    private int[] GroupCounts(string group)
    {
        if (!_groupCounts.TryGetValue(group, out var counts))
        {
            counts = new int[_zones.Count];
            if (_options.GroupZoneCounts.TryGetValue(group, out var given))
            {
                Array.Copy(given, counts, Math.Min(given.Length, counts.Length));
            }
            _groupCounts[group] = counts;
        }
        return counts;
    }

    /// <summary>Phases 1 and 2 for one class of interchangeable tasks.</summary>
    private void PlaceClass(List<PendingTask> tasks)
    {
        var first = tasks[0];
        var memberOf = Expression(first.MemberOf);
        var cp = _options.CapacityProviders.GetValueOrDefault(first.CapacityProvider);
        _classStamp++;
        var pickers = new ZonePicker[_zones.Count];
        for (var z = 0; z < pickers.Length; z++)
        {
            pickers[z] = new ZonePicker(this, first, memberOf, z);
        }
        // Zones the class can use at all: up, and (with a memberOf) holding or able to launch a matching instance.
        var usable = new bool[_zones.Count];
        for (var z = 0; z < usable.Length; z++)
        {
            usable[z] = _zoneUp[z] && (memberOf is null || pickers[z].Peek() >= 0 || (cp is not null && NewTypeFor(cp, first, memberOf, z) is not null));
        }
        var canLaunch = cp is not null && (NewTypeFor(cp, first, memberOf, zone: -1) is not null
            || _launching.Keys.Any(k => k.Provider == first.CapacityProvider && usable[k.Zone]));
        var counts = GroupCounts(first.Group);
        var canReuse = first.HostPorts.Count == 0 && !first.DistinctInstance;

        foreach (var t in tasks)
        {
            var min = int.MaxValue;
            for (var z = 0; z < counts.Length; z++)
            {
                if (usable[z] && counts[z] < min)
                {
                    min = counts[z];
                }
            }
            var zone = -1;
            for (var z = 0; z < counts.Length && zone < 0; z++)
            {
                if (usable[z] && counts[z] == min && pickers[z].Peek() >= 0)
                {
                    zone = z;
                }
            }
            var why = PlacementEngine.WhyExisting;
            if (zone < 0 && canLaunch)
            {
                for (var z = 0; z < counts.Length && zone < 0; z++)
                {
                    if (usable[z] && counts[z] == min)
                    {
                        zone = z;
                    }
                }
                counts[zone]++;
                Defer(first.CapacityProvider, zone, t);
                continue;
            }
            if (zone < 0)
            {
                // Cannot launch: spread as evenly as the existing capacity allows.
                for (var z = 0; z < counts.Length; z++)
                {
                    if (usable[z] && (zone < 0 || counts[z] < counts[zone]) && pickers[z].Peek() >= 0)
                    {
                        zone = z;
                    }
                }
                why = PlacementEngine.WhyExistingUneven;
            }
            if (zone < 0)
            {
                _unplaced.Add(NoRoom(t, cp, memberOf));
                continue;
            }
            var index = pickers[zone].Take();
            var slot = _slots[index];
            slot.Take(t);
            counts[zone]++;
            _assignments.Add(new TaskAssignment(t.TaskId, PlacementPhase.ExistingCapacity, slot.Snapshot.Id, false, why));
            if (canReuse && slot.Free.Fits(t.Need))
            {
                pickers[zone].Reuse(index);
            }
        }
        foreach (var picker in pickers)
        {
            picker.Finish();
        }
    }

    /// <summary>
    /// Finds, lazily, the instances of one zone that can take a task of the current class, in the order phase 1
    /// uses them: instances with the image cached first (those without a task of the group before those with
    /// one, then round-robin over them); then instances without a task of the group (from a cursor that moves
    /// on from class to class so classes start on different instances), then the ones that already hold the
    /// group, then round-robin over those used, which keeps the per-instance counts of the group within one of
    /// each other. Nothing is scanned that is not needed.
    /// </summary>
    private sealed class ZonePicker
    {
        private readonly PlacementRun _run;
        private readonly PendingTask _task;
        private readonly MemberOfExpression? _memberOf;
        private readonly int _zone;
        private readonly List<int>? _all;
        private readonly int _start;
        private readonly Queue<int> _reuse = new();
        private List<int>? _cached;
        private int _cachedAt;
        private int _scanned;
        private bool _holdingAdded;
        /// <summary>The hosts with the image cached are used up: from here on, hosts without it.</summary>
        private bool _scanStarted;
        private int _next = -1;

        public ZonePicker(PlacementRun run, PendingTask task, MemberOfExpression? memberOf, int zone)
        {
            _run = run;
            _task = task;
            _memberOf = memberOf;
            _zone = zone;
            if (run._zoneUp[zone] && run._byProviderZone.TryGetValue(task.CapacityProvider, out var perZone))
            {
                _all = perZone[zone];
                _start = run._cursor.GetValueOrDefault((task.CapacityProvider, zone));
                if (task.Images.Count > 0 && run._byImage.TryGetValue(task.Images[0], out var cached))
                {
                    _cached = cached;
                }
            }
        }

        public int Peek()
        {
            if (_next < 0)
            {
                _next = Find();
            }
            return _next;
        }

        public int Take()
        {
            var i = Peek();
            _next = -1;
            return i;
        }

        public void Reuse(int index) => _reuse.Enqueue(index);

        /// <summary>The next class in this provider and zone starts scanning where this one stopped.</summary>
        public void Finish()
        {
            if (_all is { Count: > 0 })
            {
                _run._cursor[(_task.CapacityProvider, _zone)] = (_start + _scanned) % _all.Count;
            }
        }

        private int Find()
        {
            if (_all is null)
            {
                return -1;
            }
            var stamp = _run._stamp;
            var cls = _run._classStamp;
            while (_cached is not null && _cachedAt < _cached.Count)
            {
                var i = _cached[_cachedAt++];
                var s = _run._slots[i];
                if (stamp[i] != cls && s.Zone == _zone && s.Snapshot.CapacityProvider == _task.CapacityProvider
                    && !s.HasGroup(_task.Group) && HasImages(s.Snapshot, _task.Images) && Eligible(s))
                {
                    stamp[i] = cls;
                    return i;
                }
            }
            if (!_scanStarted)
            {
                // Hosts with the image cached come before every host without it, even those already running the
                // group: a cached image saves the pull (the seed: same-image tasks share an instance's cache).
                // Among them the queue goes round-robin, so their counts of the group stay within one.
                if (_cached is not null && !_task.DistinctInstance)
                {
                    foreach (var i in _cached)
                    {
                        var s = _run._slots[i];
                        if (stamp[i] != cls && s.Zone == _zone && s.Snapshot.CapacityProvider == _task.CapacityProvider
                            && HasImages(s.Snapshot, _task.Images) && Eligible(s))
                        {
                            stamp[i] = cls;
                            _reuse.Enqueue(i);
                        }
                    }
                }
                while (_reuse.Count > 0)
                {
                    var i = _reuse.Dequeue();
                    if (_run._slots[i].Free.Fits(_task.Need))
                    {
                        return i;
                    }
                }
                _scanStarted = true;
            }
            var count = _all.Count;
            while (_scanned < count)
            {
                var at = _start + _scanned++;
                var i = _all[at >= count ? at - count : at];
                if (stamp[i] != cls && !_run._slots[i].HasGroup(_task.Group) && Eligible(_run._slots[i]))
                {
                    stamp[i] = cls;
                    return i;
                }
            }
            if (!_holdingAdded)
            {
                _holdingAdded = true;
                if (!_task.DistinctInstance && _run._byGroup.TryGetValue(_task.Group, out var holding))
                {
                    foreach (var i in holding)
                    {
                        var s = _run._slots[i];
                        if (stamp[i] != cls && s.Zone == _zone && s.Snapshot.CapacityProvider == _task.CapacityProvider && Eligible(s))
                        {
                            stamp[i] = cls;
                            _reuse.Enqueue(i);
                        }
                    }
                }
            }
            while (_reuse.Count > 0)
            {
                var i = _reuse.Dequeue();
                if (_run._slots[i].Free.Fits(_task.Need))
                {
                    return i;
                }
            }
            return -1;
        }

        private bool Eligible(Slot s) =>
            s.Active && s.Free.Fits(_task.Need)
            && (_task.HostPorts.Count == 0 || s.PortsFree(_task.HostPorts))
            && (_memberOf is null || _memberOf.Matches(a => PlacementEngine.Attribute(s.Snapshot, a)));
    }

    private static bool HasImages(InstanceSnapshot s, IReadOnlyList<string> images)
    {
        foreach (var image in images)
        {
            if (!s.CachedImages.Contains(image))
            {
                return false;
            }
        }
        return true;
    }

    private void Defer(string provider, int zone, PendingTask t)
    {
        var key = (provider, zone);
        if (!_deferred.TryGetValue(key, out var list))
        {
            _deferred[key] = list = [];
            _deferredOrder.Add(key);
        }
        list.Add(t);
    }

    private UnplacedTask NoRoom(PendingTask t, CapacityProviderPlacement? cp, MemberOfExpression? memberOf)
    {
        if (!_zoneUp.Any(u => u))
        {
            return new UnplacedTask(t.TaskId, "every zone is unavailable", Permanent: false);
        }
        if (!_options.CapacityProviders.ContainsKey(t.CapacityProvider) && !_everyByProvider.ContainsKey(t.CapacityProvider))
        {
            return new UnplacedTask(t.TaskId, $"capacity provider '{t.CapacityProvider}' has no instances and cannot launch any", Permanent: true);
        }
        // Could any instance of the provider ever hold it (empty, whatever its state)?
        var everFits = false;
        if (_everyByProvider.TryGetValue(t.CapacityProvider, out var every))
        {
            foreach (var s in every)
            {
                if (new Resources(s.Type.CpuUnits, s.Type.MemoryMiB, s.Type.Gpus).Fits(t.Need)
                    && (memberOf is null || memberOf.Matches(a => PlacementEngine.Attribute(s, a))))
                {
                    everFits = true;
                    break;
                }
            }
        }
        var launchable = cp is not null && NewTypeFor(cp, t, memberOf, zone: -1, ignoreLimit: true) is not null;
        if (everFits || launchable)
        {
            var why = cp is { RemainingInstances: <= 0 } && cp.AllowedTypes.Count > 0
                ? $"no ACTIVE instance has room and capacity provider '{t.CapacityProvider}' is at its maximum instance count"
                : "no ACTIVE instance has room for it now";
            return new UnplacedTask(t.TaskId, why, Permanent: false);
        }
        return new UnplacedTask(t.TaskId, TooLarge(t, cp, memberOf), Permanent: true);
    }

    private static string TooLarge(PendingTask t, CapacityProviderPlacement? cp, MemberOfExpression? memberOf)
    {
        var need = $"needs {t.Need.Cpu} cpu units, {t.Need.MemoryMiB} MiB, {t.Need.Gpus} GPUs";
        if (cp is null || cp.AllowedTypes.Count == 0)
        {
            return $"larger than every instance of capacity provider '{t.CapacityProvider}' ({need})";
        }
        var largest = cp.AllowedTypes.OrderByDescending(x => x.CpuUnits).ThenByDescending(x => x.MemoryMiB).First();
        if (cp.AllowedTypes.Any(x => new Resources(x.CpuUnits, x.MemoryMiB, x.Gpus).Fits(t.Need)) && memberOf is not null)
        {
            return $"no instance type capacity provider '{t.CapacityProvider}' allows satisfies memberOf '{memberOf.Text}'";
        }
        return $"larger than every instance type capacity provider '{t.CapacityProvider}' allows ({need}; largest allowed {largest.Name}: {largest.CpuUnits} cpu units, {largest.MemoryMiB} MiB, {largest.Gpus} GPUs)";
    }

    /// <summary>
    /// The type a new instance for <paramref name="t"/> gets: among the provider's types that fit the task
    /// (and its memberOf in the zone; -1 = any zone), GPU types only for GPU tasks when another fits, the one
    /// that holds all of <paramref name="sums"/> on one host at the lowest price, else the one that would need the
    /// fewest hosts for them (the largest), then the cheapest, then by name.
    /// </summary>
    private InstanceType? NewTypeFor(CapacityProviderPlacement cp, PendingTask t, MemberOfExpression? memberOf, int zone,
        Resources? sums = null, bool ignoreLimit = false)
    {
        if (!ignoreLimit && _remaining.GetValueOrDefault(cp.Name, cp.RemainingInstances) <= 0)
        {
            return null;
        }
        var total = sums ?? t.Need;
        // Right-sizing goes no smaller than a quarter of the largest type that fits the task: hosts that small
        // would fill with a trickle of batches and leave the fleet in many small pieces.
        // The floor is on the batch's dominant resource, so a memory-heavy batch is not pushed onto many vCPUs.
        long maxCpu = 0, maxMemory = 0;
        foreach (var type in cp.AllowedTypes)
        {
            if (new Resources(type.CpuUnits, type.MemoryMiB, type.Gpus).Fits(t.Need))
            {
                maxCpu = Math.Max(maxCpu, type.CpuUnits);
                maxMemory = Math.Max(maxMemory, type.MemoryMiB);
            }
        }
        var memoryBound = maxCpu > 0 && (double)total.MemoryMiB / maxMemory > (double)total.Cpu / maxCpu;
        // No floor for GPU tasks (a GPU host is priced by its GPUs: the cheapest that holds the batch is the right
        // one), nor for a batch that is no more than the task itself (what cannot share a host gains nothing from a
        // larger one).
        var floor = t.Need.Gpus == 0 && total != t.Need;
        InstanceType? best = null;
        var bestGpuMismatch = true;
        var bestSingle = 1;
        var bestHosts = double.MaxValue;
        var bestCost = double.MaxValue;
        foreach (var type in cp.AllowedTypes)
        {
            if (!new Resources(type.CpuUnits, type.MemoryMiB, type.Gpus).Fits(t.Need) || !TypeMatches(type, memberOf, zone))
            {
                continue;
            }
            var gpuMismatch = t.Need.Gpus == 0 && type.Gpus > 0;
            var fraction = Math.Max((double)total.Cpu / type.CpuUnits, (double)total.MemoryMiB / type.MemoryMiB);
            if (total.Gpus > 0 && type.Gpus > 0)
            {
                // GPU tasks among the sums count against GPU types; on a type without GPUs only the others go.
                fraction = Math.Max(fraction, (double)total.Gpus / type.Gpus);
            }
            // A batch that one host of some type holds gets the cheapest such type (a small batch does not
            // open a huge host); a larger one gets the type it needs the fewest hosts of (the largest), then
            // the cheapest: that keeps First Fit Decreasing close to the resource lower bound.
            var bigEnough = !floor || (memoryBound ? type.MemoryMiB * 4 >= maxMemory : type.CpuUnits * 4L >= maxCpu);
            var single = fraction <= 1 && bigEnough ? 0 : 1;
            var hosts = single == 0 ? 0 : fraction;
            var cost = (single == 0 ? 1 : fraction) * (double)type.HourlyPrice;
            var better = best is null
                || (gpuMismatch != bestGpuMismatch ? !gpuMismatch
                    : single != bestSingle ? single < bestSingle
                    : hosts != bestHosts ? hosts < bestHosts
                    : cost != bestCost ? cost < bestCost
                    : string.CompareOrdinal(type.Name, best.Name) < 0);
            if (better)
            {
                (best, bestGpuMismatch, bestSingle, bestHosts, bestCost) = (type, gpuMismatch, single, hosts, cost);
            }
        }
        return best;
    }

    private bool TypeMatches(InstanceType type, MemberOfExpression? memberOf, int zone)
    {
        if (memberOf is null)
        {
            return true;
        }
        if (zone >= 0)
        {
            return memberOf.Matches(a => MemberOfExpression.BuiltInAttribute(a, type.Name, type.Family, _zones[zone]));
        }
        for (var z = 0; z < _zones.Count; z++)
        {
            if (_zoneUp[z] && memberOf.Matches(a => MemberOfExpression.BuiltInAttribute(a, type.Name, type.Family, _zones[z])))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Phases 2 and 3 for the tasks deferred to one provider and zone: First Fit Decreasing onto new instances.</summary>
    private void Pack(string provider, int zone, List<PendingTask> tasks)
    {
        var cp = _options.CapacityProviders[provider];
        var sums = Shareable(tasks);
        // Largest first by the dominant share of a reference type; stable, so ties keep their order.
        var open = _launching.TryGetValue((provider, zone), out var launching)
            ? launching.Select(i => Bin.From(_slots[i])).ToList()
            : [];
        var reference = NewTypeFor(cp, tasks.MaxBy(t => (t.Need.Gpus, t.Need.Cpu, t.Need.MemoryMiB))!, null, zone, sums)
            ?? cp.AllowedTypes.FirstOrDefault() ?? open.FirstOrDefault()?.Type;
        if (reference is null)
        {
            // Deferred to a zone with nothing launching where the provider cannot launch: they wait.
            foreach (var t in tasks)
            {
                _unplaced.Add(new UnplacedTask(t.TaskId, "no ACTIVE instance has room for it now", Permanent: false));
                UndoCount(t, zone);
            }
            return;
        }
        var sorted = tasks
            .Select((t, k) => (Task: t, Order: k, Size: Share(t.Need, reference)))
            .OrderByDescending(x => x.Size).ThenBy(x => x.Order)
            .Select(x => x.Task).ToList();
        var minNeed = new Resources(sorted.Min(t => t.Need.Cpu), sorted.Min(t => t.Need.MemoryMiB), sorted.Min(t => t.Need.Gpus));
        var typeFor = new Dictionary<(Resources, string?), InstanceType?>();
        foreach (var t in sorted)
        {
            var memberOf = Expression(t.MemberOf);
            if (!typeFor.TryGetValue((t.Need, t.MemberOf), out var type))
            {
                typeFor[(t.Need, t.MemberOf)] = type = NewTypeFor(cp, t, memberOf, zone, sums);
            }
            // A task without GPUs stays off GPU hosts when a type without GPUs can take it.
            var avoidGpuHosts = t.Need.Gpus == 0 && type is { Gpus: 0 };
            Bin? target = null;
            for (var k = 0; k < open.Count; k++)
            {
                var bin = open[k];
                if (bin.Free.Fits(t.Need)
                    && (!avoidGpuHosts || bin.Type.Gpus == 0)
                    && (t.HostPorts.Count == 0 || !t.HostPorts.Any(bin.Ports.Contains))
                    && (!t.DistinctInstance || !bin.DistinctGroups.Contains(t.Group))
                    && TypeMatches(bin.Type, memberOf, zone))
                {
                    target = bin;
                    break;
                }
            }
            var phase = PlacementPhase.BinPacking;
            if (target is null)
            {
                if (type is null)
                {
                    _unplaced.Add(_remaining[provider] <= 0
                        ? new UnplacedTask(t.TaskId, $"capacity provider '{provider}' is at its maximum instance count", Permanent: false)
                        : new UnplacedTask(t.TaskId, TooLarge(t, cp, memberOf), Permanent: true));
                    UndoCount(t, zone);
                    continue;
                }
                if (_remaining[provider] <= 0)
                {
                    _unplaced.Add(new UnplacedTask(t.TaskId, $"capacity provider '{provider}' is at its maximum instance count", Permanent: false));
                    UndoCount(t, zone);
                    continue;
                }
                _remaining[provider]--;
                target = new Bin(_options.NewInstancePrefix + _newInstances.Count, type);
                _newInstances.Add(new NewInstanceRequest(target.Id, provider, type, _zones[zone]));
                open.Add(target);
                phase = PlacementPhase.NewCapacity;
            }
            target.Free -= t.Need;
            target.Ports.UnionWith(t.HostPorts);
            if (t.DistinctInstance)
            {
                target.DistinctGroups.Add(t.Group);
            }
            if (target.Launching is { } slot)
            {
                slot.Take(t);
            }
            _assignments.Add(new TaskAssignment(t.TaskId, phase, target.Id, NewInstance: target.Launching is null,
                phase == PlacementPhase.NewCapacity ? PlacementEngine.WhyNewInstance
                : target.Launching is null ? PlacementEngine.WhyPacked : PlacementEngine.WhyLaunching));
            if (!target.Free.Fits(minNeed))
            {
                open.Remove(target);
            }
        }
    }

    /// <summary>
    /// What of a batch can share one host: every task that can go anywhere, and of the tasks that exclude each
    /// other (the same host port; distinctInstance in one group) only one, the largest. Sizing by the plain sum
    /// would open a big host for tasks that can never sit on it together.
    /// </summary>
    internal static Resources Shareable(IReadOnlyList<PendingTask> tasks)
    {
        var sum = default(Resources);
        Dictionary<string, Resources>? exclusive = null;
        foreach (var t in tasks)
        {
            if (ExclusionKey(t) is not { } key)
            {
                sum += t.Need;
                continue;
            }
            exclusive ??= new Dictionary<string, Resources>(StringComparer.Ordinal);
            var was = exclusive.GetValueOrDefault(key);
            exclusive[key] = new Resources(Math.Max(was.Cpu, t.Need.Cpu), Math.Max(was.MemoryMiB, t.Need.MemoryMiB), Math.Max(was.Gpus, t.Need.Gpus));
        }
        if (exclusive is not null)
        {
            foreach (var need in exclusive.Values)
            {
                sum += need;
            }
        }
        return sum;
    }

    /// <summary>Tasks with the same key never share a host: host ports (each port once per instance), or distinctInstance in a group.</summary>
    private static string? ExclusionKey(PendingTask t) =>
        t.HostPorts.Count > 0 ? "ports:" + string.Join(",", t.HostPorts)
        : t.DistinctInstance ? "distinct:" + t.Group
        : null;

    private void UndoCount(PendingTask t, int zone) => GroupCounts(t.Group)[zone]--;

    private static double Share(Resources need, InstanceType type)
    {
        var share = Math.Max((double)need.Cpu / Math.Max(1, type.CpuUnits), (double)need.MemoryMiB / Math.Max(1, type.MemoryMiB));
        return type.Gpus > 0 ? Math.Max(share, (double)need.Gpus / type.Gpus) : share + need.Gpus;
    }
}
