using Scheduler.Core.Batch;
using Scheduler.Core.Engine;

namespace Scheduler.Core.Reporting;

/// <summary>
/// How fast the job queues drained into RunTask: <see cref="TasksStarted"/> job tasks between <see cref="FirstStartAt"/>
/// and <see cref="LastStartAt"/> (simulated seconds), <see cref="BurstTasks"/> of them in the first second (the RunTask
/// bucket's burst); <see cref="TasksPerSecond"/> = the tasks after that second over the time they took, and
/// <see cref="MedianTasksPerSecond"/> the median of the per-second counts after it (the sustained ceiling).
/// </summary>
public sealed record JobDrainSummary(int TasksStarted, double FirstStartAt, double LastStartAt, int BurstTasks, double TasksPerSecond, double MedianTasksPerSecond);

/// <summary>The batch job part of summary.json, from the job events alone.</summary>
public sealed class JobSummaryBuilder
{
    private readonly Dictionary<string, string> _latest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _runnableAt = new(StringComparer.Ordinal);
    private readonly List<long> _waits = [];
    private readonly SortedDictionary<string, List<long>> _waitsByQueue = new(StringComparer.Ordinal);
    private readonly SortedDictionary<long, int> _startsPerSecond = [];

    public void Observe(SimEvent e)
    {
        var id = $"{e.Account}/{e.Job}";
        _latest[id] = e.State ?? "";
        if (e.ArraySize is not null)
        {
            // An array job's parent starts no task of its own: its children's waits are the queue's.
            return;
        }
        switch (e.State)
        {
            case JobStates.Runnable:
                _runnableAt[id] = e.TimeMs;
                break;
            case JobStates.Starting:
                if (_runnableAt.Remove(id, out var since))
                {
                    var wait = e.TimeMs - since;
                    _waits.Add(wait);
                    var queue = $"{e.Account}/{e.Cluster}/{e.Queue}";
                    (_waitsByQueue.TryGetValue(queue, out var list) ? list : _waitsByQueue[queue] = []).Add(wait);
                }
                var second = e.TimeMs / 1000;
                _startsPerSecond[second] = _startsPerSecond.GetValueOrDefault(second) + 1;
                break;
        }
    }

    /// <summary>Jobs (single jobs, array parents and their children) by their last state.</summary>
    public SortedDictionary<string, int> ByState()
    {
        var result = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var state in _latest.Values)
        {
            result[state] = result.GetValueOrDefault(state) + 1;
        }
        return result;
    }

    public Percentiles QueueWait() => Of(_waits);

    public SortedDictionary<string, Percentiles> QueueWaitByQueue() =>
        new(_waitsByQueue.ToDictionary(kv => kv.Key, kv => Of(kv.Value), StringComparer.Ordinal), StringComparer.Ordinal);

    public JobDrainSummary Drain()
    {
        if (_startsPerSecond.Count == 0)
        {
            return new JobDrainSummary(0, 0, 0, 0, 0, 0);
        }
        var first = _startsPerSecond.Keys.First();
        var last = _startsPerSecond.Keys.Last();
        var total = _startsPerSecond.Values.Sum();
        var burst = _startsPerSecond[first];
        // Every whole second after the first up to the last, including seconds with no start.
        var perSecond = Enumerable.Range(1, (int)(last - first)).Select(k => (long)_startsPerSecond.GetValueOrDefault(first + k)).Order().ToArray();
        var median = perSecond.Length == 0 ? 0 : perSecond[(perSecond.Length - 1) / 2];
        return new JobDrainSummary(total, first, last, burst,
            last > first ? Math.Round((total - burst) / (double)(last - first), 3) : 0, median);
    }

    private static Percentiles Of(List<long> values)
    {
        var sorted = values.Order().ToArray();
        return new Percentiles(SummaryBuilder.Percentile(sorted, 0.50), SummaryBuilder.Percentile(sorted, 0.90),
            SummaryBuilder.Percentile(sorted, 0.99), sorted.Length == 0 ? 0 : sorted[^1] / 1000.0);
    }
}
