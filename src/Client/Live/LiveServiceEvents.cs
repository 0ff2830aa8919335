using System.Security.Cryptography;
using System.Text;
using Scheduler.Core.Engine;

namespace Scheduler.Client.Live;

/// <summary>
/// One line of a service's event history as DescribeServices shows it: ECS writes these messages when a service
/// starts or stops tasks and when it reaches a steady state, newest first, the last 100.
/// </summary>
public sealed class LiveServiceEvent(string id, long atMs, string service, string verb)
{
    public string Id { get; } = id;
    public long AtMs { get; } = atMs;

    /// <summary>
    /// Written when read (DescribeServices reads at most 100 lines), not as tasks join: a tick that starts thousands of
    /// a service's tasks would otherwise rebuild an ever longer message for each one.
    /// </summary>
    public string Message => Verb.Length == 0
        ? $"(service {service}) has reached a steady state."
        : $"(service {service}) has {Verb} {Tasks.Count} {(Verb == "stopped" ? "running tasks" : "tasks")}: " +
          string.Join(" ", Tasks.Select(t => $"(task {t})")) + ".";

    /// <summary>The tasks a "has started" or "has stopped" line names; tasks of the same instant join one line.</summary>
    internal List<string> Tasks { get; } = [];

    /// <summary>"started" or "stopped"; empty for the steady-state line.</summary>
    internal string Verb { get; } = verb;
}

/// <summary>A service's event history: what ECS's service scheduler would have said about the engine's actions.</summary>
public sealed class LiveServiceHistory
{
    /// <summary>DescribeServices returns at most this many events.</summary>
    public const int Capacity = 100;

    private readonly LinkedList<LiveServiceEvent> _newestFirst = new();
    private long _sequence;
    private bool _steady;

    public IEnumerable<LiveServiceEvent> NewestFirst => _newestFirst;

    /// <summary>A task of the service started (entered PROVISIONING) or was stopped by the service scheduler.</summary>
    public void TaskChanged(string arn, string service, string verb, string task, long atMs)
    {
        _steady = false;
        if (_newestFirst.First?.Value is { } last && last.AtMs == atMs && last.Verb == verb)
        {
            last.Tasks.Add(task);
            return;
        }
        var line = new LiveServiceEvent(NextId(arn), atMs, service, verb);
        line.Tasks.Add(task);
        Add(line);
    }

    /// <summary>After a change of the service's counts: says once that it is steady when every desired task runs.</summary>
    public void CountsChanged(string arn, string service, int desired, int running, int live, long atMs)
    {
        var steady = running == desired && live == desired;
        if (steady && !_steady)
        {
            Add(new LiveServiceEvent(NextId(arn), atMs, service, ""));
        }
        _steady = steady;
    }

    private void Add(LiveServiceEvent line)
    {
        _newestFirst.AddFirst(line);
        if (_newestFirst.Count > Capacity)
        {
            _newestFirst.RemoveLast();
        }
    }

    /// <summary>A UUID made from the service and the line's number, so the same session gives the same ids.</summary>
    private string NextId(string arn)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{arn}#{++_sequence}"));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString();
    }
}

public sealed partial class LiveModel
{
    /// <summary>
    /// Feeds a service's history from a task event (called for a task's first event and until its first stopping one): a new task of the service is "started"; a task the service
    /// scheduler stops (scale-in, a replaced deployment) is "stopped". Stops of other causes (exits, host faults) are
    /// not the service's doing and ECS does not list them.
    /// </summary>
    private static void RecordServiceTask(LiveAccount account, LiveCluster cluster, LiveTask task, SimEvent e, bool created)
    {
        if (task.Service is not { } name || !cluster.Services.TryGetValue(name, out var service))
        {
            return;
        }
        var arn = ServiceKey(account, cluster, name);
        if (created)
        {
            service.History.TaskChanged(arn, name, "started", task.Id, e.TimeMs);
        }
        else if (e.State is TaskStates.Deactivating or TaskStates.Stopping or TaskStates.Deprovisioning or TaskStates.Stopped
                 && e.Reason is { } reason && reason.StartsWith("Scaling activity initiated by", StringComparison.Ordinal))
        {
            service.History.TaskChanged(arn, name, "stopped", task.Id, e.TimeMs);
        }
    }

    /// <summary>After the engine's service event: the engine's desired count, which an UpdateService reaches a step later.</summary>
    private static void RecordServiceCounts(LiveAccount account, LiveCluster cluster, LiveService service, int desired, long atMs) =>
        service.History.CountsChanged(ServiceKey(account, cluster, service.Name), service.Name, desired, service.Running,
            cluster.LiveTasksOf(service.Name).Count, atMs);

    private static string ServiceKey(LiveAccount account, LiveCluster cluster, string service) =>
        $"{account.AccountId}/{cluster.Name}/{service}";
}
