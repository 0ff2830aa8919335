using System.Globalization;
using System.Text;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Reporting;

/// <summary>
/// metrics.csv: the run as a time series, one row per simulated interval, folded from the event stream as it
/// arrives (events come in simulated-time order), so it needs no second pass over events.jsonl and says exactly
/// what the log says. Levels (tasks, instances, reservations) are as they stand at the end of the row's interval;
/// counts (launches, throttles, OOM kills, placements) are the events inside it.
/// </summary>
/// <remarks>
/// Unless the interval is fixed by the caller, a run that would need more than <c>maxRows</c> rows doubles its
/// interval (merging pairs of rows) as often as it must, so a long run stays a file a spreadsheet can open.
/// </remarks>
public sealed class MetricsRecorder
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(1);
    public const int DefaultMaxRows = 50_000;

    private static readonly long Day = (long)TimeSpan.FromDays(1).TotalMilliseconds;

    /// <summary>The columns every metrics.csv has, in order.</summary>
    public static readonly IReadOnlyList<string> BaseColumns =
    [
        "t", "pending", "running", "healthy", "instances", "age0_14d", "age14_21d", "age21_30d", "age30dPlus", "draining",
        "cpuReservedPercent", "memoryReservedPercent", "launches", "tasksCreated", "tasksStopped", "throttled", "throttledTasks",
        "oomKills", "placedPhase1", "placedPhase2", "placedPhase3", "instancesLaunched", "replacements",
    ];

    private const int T = 0, Pending = 1, Running = 2, Healthy = 3, Instances = 4, Age0 = 5, Age14 = 6, Age21 = 7, Age30 = 8, Draining = 9,
        CpuPercent = 10, MemoryPercent = 11, Launches = 12, Created = 13, Stopped = 14, Throttled = 15, ThrottledTasks = 16,
        Ooms = 17, Phase1 = 18, Launched = 21, Replacements = 22;

    /// <summary>Columns that count events in the interval (summed when rows merge); the others are levels.</summary>
    private static readonly int[] Counters = [Launches, Created, Stopped, Throttled, ThrottledTasks, Ooms, Phase1, Phase1 + 1, Phase1 + 2, Launched, Replacements];

    private readonly SummaryBuilder _summary;
    private readonly bool _fixedInterval;
    private readonly int _maxRows;
    private readonly List<string> _columns = [.. BaseColumns];
    /// <summary>Per capacity type (index into <see cref="RunFleet.AllTypes"/>) the first of its columns: running, then instances (host types only); -1 = not in this run.</summary>
    private readonly int[] _runningColumn = [-1, -1, -1, -1, -1];
    private readonly int[] _instancesColumn = [-1, -1, -1, -1, -1];
    private readonly List<double[]> _rows = [];
    private double[] _current;
    private long _rowStartMs;

    private enum Stage : byte { Pending, Running, Healthy, Leaving }
    private readonly Dictionary<string, (Stage Stage, sbyte Capacity)> _tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long LaunchedMs, sbyte Capacity, bool Draining)> _instances = new(StringComparer.Ordinal);
    /// <summary>Launch times of the live instances, ascending (launch events arrive in time order), for the age bands.</summary>
    private readonly List<long> _launchTimes = [];
    private readonly HashSet<string> _everRunning = new(StringComparer.Ordinal);
    private readonly int[] _runningBy = new int[6], _instancesBy = new int[6];
    private int _pending, _running, _healthy, _draining;

    /// <param name="summary">The run's summary builder: metrics read its reservations and fleet, so the two agree.</param>
    /// <param name="interval">Row interval; null = <see cref="DefaultInterval"/>, doubled as needed to stay within <paramref name="maxRows"/>.</param>
    public MetricsRecorder(SummaryBuilder summary, Scenario? scenario, TimeSpan? interval = null, int maxRows = DefaultMaxRows)
    {
        if (interval is { } i && i <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), "the metrics interval must be positive");
        }
        _summary = summary;
        _fixedInterval = interval is not null;
        _maxRows = Math.Max(2, maxRows);
        IntervalMs = (long)(interval ?? DefaultInterval).TotalMilliseconds;
        var used = new HashSet<CapacityType>(scenario?.Accounts.SelectMany(a => a.Clusters).SelectMany(c => c.CapacityProviders).Select(p => p.Type) ?? []);
        for (var k = 0; k < RunFleet.AllTypes.Length; k++)
        {
            if (used.Contains(RunFleet.AllTypes[k]))
            {
                _runningColumn[k] = _columns.Count;
                _columns.Add($"running_{RunFleet.Name(RunFleet.AllTypes[k])}");
            }
        }
        for (var k = 0; k < RunFleet.AllTypes.Length; k++)
        {
            if (used.Contains(RunFleet.AllTypes[k]) && RunFleet.AllTypes[k] is not (CapacityType.Fargate or CapacityType.FargateSpot))
            {
                _instancesColumn[k] = _columns.Count;
                _columns.Add($"instances_{RunFleet.Name(RunFleet.AllTypes[k])}");
            }
        }
        _current = new double[_columns.Count];
    }

    public long IntervalMs { get; private set; }

    public IReadOnlyList<string> Columns => _columns;

    /// <summary>The finished rows; each holds the values of <see cref="Columns"/> in order.</summary>
    public IReadOnlyList<double[]> Rows => _rows;

    public int Column(string name) => _columns.IndexOf(name);

    /// <summary>Takes one event, after the summary builder has seen it.</summary>
    public void Observe(SimEvent e)
    {
        AdvanceTo(e.TimeMs);
        switch (e.Kind)
        {
            case EventKinds.Task:
                ObserveTask(e);
                break;
            case EventKinds.Instance:
                ObserveInstance(e);
                break;
            case EventKinds.Placement when e.Phase is >= 1 and <= 3:
                _current[Phase1 + e.Phase - 1] += e.Placed;
                break;
            case EventKinds.Throttle:
                _current[Throttled]++;
                _current[ThrottledTasks] += e.Bucket == RateLimits.BucketNames.RunTask ? e.Tasks : Math.Max(0, e.Requested - e.Granted);
                break;
            case EventKinds.Oom:
                _current[Ooms]++;
                break;
        }
    }

    /// <summary>Closes the rows up to the end of the run (the last one may cover less than an interval).</summary>
    public void Finish(long endMs)
    {
        AdvanceTo(endMs);
        if (_rowStartMs < endMs || _rows.Count == 0 || Counters.Any(c => _current[c] != 0))
        {
            CloseRow(endMs);
        }
    }

    private void AdvanceTo(long nowMs)
    {
        while (nowMs >= _rowStartMs + IntervalMs)
        {
            CloseRow(_rowStartMs + IntervalMs);
        }
    }

    private void CloseRow(long endMs)
    {
        var row = _current;
        row[T] = _rowStartMs / 1000.0;
        row[Pending] = _pending;
        row[Running] = _running;
        row[Healthy] = _healthy;
        row[Instances] = _launchTimes.Count;
        var over14 = CountLaunchedBy(endMs - 14 * Day);
        var over21 = CountLaunchedBy(endMs - 21 * Day);
        var over30 = CountLaunchedBy(endMs - 30 * Day);
        row[Age0] = _launchTimes.Count - over14;
        row[Age14] = over14 - over21;
        row[Age21] = over21 - over30;
        row[Age30] = over30;
        row[Draining] = _draining;
        var (reservedCpu, reservedMemory, registeredCpu, registeredMemory) = _summary.Reservations;
        row[CpuPercent] = registeredCpu > 0 ? Math.Round(100.0 * reservedCpu / registeredCpu, 1) : 0;
        row[MemoryPercent] = registeredMemory > 0 ? Math.Round(100.0 * reservedMemory / registeredMemory, 1) : 0;
        for (var k = 0; k < RunFleet.AllTypes.Length; k++)
        {
            if (_runningColumn[k] >= 0)
            {
                row[_runningColumn[k]] = _runningBy[k];
            }
            if (_instancesColumn[k] >= 0)
            {
                row[_instancesColumn[k]] = _instancesBy[k];
            }
        }
        _rows.Add(row);
        _current = new double[_columns.Count];
        _rowStartMs += IntervalMs;
        if (!_fixedInterval && _rows.Count > _maxRows)
        {
            Coarsen();
        }
    }

    /// <summary>Doubles the interval: pairs of rows become one (levels of the later, counts summed).</summary>
    private void Coarsen()
    {
        var merged = new List<double[]>(_rows.Count / 2 + 1);
        for (var k = 0; k + 1 < _rows.Count; k += 2)
        {
            var (a, b) = (_rows[k], _rows[k + 1]);
            b[T] = a[T];
            foreach (var c in Counters)
            {
                b[c] += a[c];
            }
            merged.Add(b);
        }
        if (_rows.Count % 2 == 1)
        {
            // The odd row out starts the (now longer) interval in progress.
            var lone = _rows[^1];
            foreach (var c in Counters)
            {
                _current[c] += lone[c];
            }
            _rowStartMs = (long)Math.Round(lone[T] * 1000);
        }
        _rows.Clear();
        _rows.AddRange(merged);
        IntervalMs *= 2;
    }

    /// <summary>How many live instances were launched at or before <paramref name="ms"/>.</summary>
    private int CountLaunchedBy(long ms)
    {
        var k = _launchTimes.BinarySearch(ms);
        if (k < 0)
        {
            return ~k;
        }
        while (k + 1 < _launchTimes.Count && _launchTimes[k + 1] == ms)
        {
            k++;
        }
        return k + 1;
    }

    private sbyte CapacityIndex(SimEvent e) =>
        _summary.Fleet.TypeOf(e.Account, e.Cluster, e.CapacityProvider) is { } type ? (sbyte)Array.IndexOf(RunFleet.AllTypes, type) : (sbyte)5;

    private void ObserveTask(SimEvent e)
    {
        var id = $"{e.Account}/{e.Cluster}/{e.Task}";
        var known = _tasks.TryGetValue(id, out var was);
        if (!known)
        {
            if (e.State == TaskStates.Stopped)
            {
                // Refused before it existed (e.g. unplaceable at creation).
                _current[Stopped]++;
                return;
            }
            was = (Stage.Leaving, CapacityIndex(e));
            _current[Created]++;
        }
        var stage = e.State switch
        {
            TaskStates.Provisioning or TaskStates.Pending or TaskStates.Activating => Stage.Pending,
            TaskStates.Running => e.Health == TaskHealth.Healthy ? Stage.Healthy : Stage.Running,
            _ => Stage.Leaving,
        };
        if (known)
        {
            Count(was, -1);
        }
        if (e.State == TaskStates.Running && _everRunning.Add(id))
        {
            _current[Launches]++;
        }
        if (e.State == TaskStates.Stopped)
        {
            _tasks.Remove(id);
            _everRunning.Remove(id);
            _current[Stopped]++;
            return;
        }
        var now = (stage, was.Capacity);
        _tasks[id] = now;
        Count(now, +1);
    }

    private void Count((Stage Stage, sbyte Capacity) t, int delta)
    {
        switch (t.Stage)
        {
            case Stage.Pending:
                _pending += delta;
                break;
            case Stage.Running:
                _running += delta;
                _runningBy[t.Capacity] += delta;
                break;
            case Stage.Healthy:
                _running += delta;
                _healthy += delta;
                _runningBy[t.Capacity] += delta;
                break;
        }
    }

    private void ObserveInstance(SimEvent e)
    {
        var id = $"{e.Account}/{e.Cluster}/{e.Instance}";
        switch (e.State)
        {
            case InstanceStates.Launching when !_instances.ContainsKey(id):
                var capacity = CapacityIndex(e);
                _instances[id] = (e.TimeMs, capacity, false);
                _launchTimes.Insert(InsertionPoint(e.TimeMs), e.TimeMs);
                _instancesBy[capacity]++;
                _current[Launched]++;
                break;
            case InstanceStates.Draining when _instances.TryGetValue(id, out var i) && !i.Draining:
                _instances[id] = i with { Draining = true };
                _draining++;
                if (e.Reason is not null)
                {
                    _current[Replacements]++;
                }
                break;
            case InstanceStates.Terminated when _instances.Remove(id, out var gone):
                _launchTimes.RemoveAt(_launchTimes.BinarySearch(gone.LaunchedMs) is var k and >= 0 ? k : throw new InvalidOperationException("launch time not tracked"));
                _instancesBy[gone.Capacity]--;
                if (gone.Draining)
                {
                    _draining--;
                }
                break;
        }
    }

    private int InsertionPoint(long ms)
    {
        var k = _launchTimes.Count;
        while (k > 0 && _launchTimes[k - 1] > ms)
        {
            k--;
        }
        return k;
    }

    /// <summary>The CSV text: a header line, then one line per row (invariant culture, '.' decimals).</summary>
    public void WriteCsv(TextWriter w)
    {
        w.Write(string.Join(',', _columns));
        w.Write('\n');
        var line = new StringBuilder();
        foreach (var row in _rows)
        {
            line.Clear();
            for (var c = 0; c < row.Length; c++)
            {
                if (c > 0)
                {
                    line.Append(',');
                }
                line.Append(row[c].ToString("0.###", CultureInfo.InvariantCulture));
            }
            line.Append('\n');
            w.Write(line);
        }
    }
}
