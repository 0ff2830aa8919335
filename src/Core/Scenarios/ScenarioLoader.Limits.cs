using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Scheduler.Core.Scenarios;

/// <summary>
/// The loader's side of <see cref="ScenarioLimits"/>: counts what the scenario defines and generates as it goes,
/// and stops with one error at the first bound passed, before the expansion costs more memory.
/// </summary>
internal sealed partial class ScenarioParser
{
    private long _entities;
    private long _timelineEntries;

    private ScenarioLimits Limits => limits;

    private ScenarioError LimitError(YamlNode? at, string field, string message) =>
        new(_ctx.File, at is null ? 1 : (int)at.Start.Line, at is null ? 1 : (int)at.Start.Column, field, message);

    /// <summary>Counts entities (accounts, clusters, capacity providers, task definitions, services, job queues); throws past the bound.</summary>
    private void CountEntities(long n, YamlNode? at, string field)
    {
        _cancellation.ThrowIfCancellationRequested();
        if (_progress is not null && (_entities + n) / ScenarioLoadProgress.Every > _entities / ScenarioLoadProgress.Every)
        {
            _progress(new ScenarioLoadProgress(_entities + n, _timelineEntries));
        }
        _entities += n;
        if (_entities > Limits.Entities)
        {
            throw new LimitExceededException(LimitError(at, field,
                $"the scenario defines more than {Limits.Entities:N0} accounts, clusters, capacity providers, task definitions, services and job queues ({Limits.Hint("entities")})"));
        }
    }

    /// <summary>Before a timeline action creates an entity: throws when the bound leaves no room for one more.</summary>
    private void EnsureEntityRoom(YamlNode? at, string field)
    {
        if (_entities + 1 > Limits.Entities)
        {
            throw new LimitExceededException(LimitError(at, field,
                $"the scenario already defines {Limits.Entities:N0} accounts, clusters, capacity providers, task definitions, services and job queues, as many as it may ({Limits.Hint("entities")})"));
        }
    }

    /// <summary>
    /// One service may not ask for more tasks than the whole scenario may (the file's total is checked once it is
    /// read). Null, with an error, when it does.
    /// </summary>
    private int? WithinTaskLimit(MapReader m, int? desired)
    {
        if (desired is { } d && d > Limits.Tasks)
        {
            _ctx.Error(m["desiredCount"]!, m.F("desiredCount"), $"desiredCount {d:N0} asks for more tasks than the scenario may ({Limits.Hint("tasks")})");
            return null;
        }
        return desired;
    }

    private static long EntitiesOf(ClusterSpec c) =>
        1L + c.CapacityProviders.Count + c.TaskDefinitions.Count + c.Services.Count + c.JobQueues.Count;

    private void CountAccount(AccountSpec account, YamlNode? at, string field) =>
        CountEntities(1 + account.Clusters.Sum(EntitiesOf), at, field);

    /// <summary>A tenants generator's accounts × clusters, checked before any is made.</summary>
    private void CheckTenantCount(long accounts, long clustersPerAccount, YamlNode at, string field)
    {
        var total = accounts * (1 + clustersPerAccount);
        if (_entities + total > Limits.Entities)
        {
            throw new LimitExceededException(LimitError(at, field,
                $"{accounts:N0} tenants × {clustersPerAccount:N0} clusters would define {total:N0} accounts and clusters, more than the scenario may hold ({Limits.Hint("entities")})"));
        }
    }

    /// <summary>Counts one timeline entry (written or generated); throws past the bound.</summary>
    private void CountTimelineEntry(YamlNode? at, string field)
    {
        if ((_timelineEntries & 0x3FF) == 0)
        {
            _cancellation.ThrowIfCancellationRequested();
            if (_progress is not null && _timelineEntries > 0 && _timelineEntries % ScenarioLoadProgress.Every == 0)
            {
                _progress(new ScenarioLoadProgress(_entities, _timelineEntries));
            }
        }
        if (++_timelineEntries > Limits.Timeline)
        {
            throw new LimitExceededException(LimitError(at, field,
                $"the scenario has more than {Limits.Timeline:N0} timeline entries, written or generated ({Limits.Hint("timeline")}; or lower the rates or shorten the run)"));
        }
    }

    /// <summary>Bursts are listed (and sorted) before they are counted one by one: their number is checked first.</summary>
    private void CheckBurstCalls(long calls, Workloads.ArrivalSpec spec, YamlNode at)
    {
        if (_timelineEntries + calls > Limits.Timeline)
        {
            throw new LimitExceededException(LimitError(at, "generators",
                $"bursts of {spec.BurstSize:N0} tasks every {Duration.Format(spec.Every)} would add {calls:N0} RunTask calls to the timeline, more than the scenario may hold ({Limits.Hint("timeline")}; or lower the size, lengthen every or shorten the run)"));
        }
    }

    /// <summary>
    /// The tasks the scenario asks for: each service at the largest desired count it is ever given, plus every
    /// RunTask's count, plus every job (each child of an array job) times the tries it may take. Null when within
    /// the bound, else the error.
    /// </summary>
    private ScenarioError? CheckTaskCount(IReadOnlyList<AccountSpec> accounts, IReadOnlyList<TimelineEntry> timeline)
    {
        // Updates are few next to services: keep the largest desired count per updated service only.
        var updated = new Dictionary<(string, string, string), long>();
        long runTasks = 0;
        long jobTasks = 0;
        foreach (var e in timeline)
        {
            switch (e.Action)
            {
                case RunTaskAction r:
                    runTasks += r.Count;
                    break;
                case SubmitJobAction j:
                    jobTasks += (long)(j.ArraySize ?? 1) * j.Attempts;
                    break;
                case UpdateServiceAction { DesiredCount: { } d } u:
                    var key = (u.Account, u.Cluster, u.Service);
                    updated[key] = Math.Max(updated.GetValueOrDefault(key), d);
                    break;
            }
        }
        long services = 0;
        foreach (var a in accounts)
        {
            foreach (var c in a.Clusters)
            {
                foreach (var s in c.Services)
                {
                    services += updated.Count > 0 && updated.TryGetValue((a.Id, c.Name, s.Name), out var most)
                        ? Math.Max(most, s.DesiredCount)
                        : s.DesiredCount;
                }
            }
        }
        var total = services + runTasks + jobTasks;
        if (total <= Limits.Tasks)
        {
            return null;
        }
        string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        return new ScenarioError(_ctx.File, 1, 1, "",
            $"the scenario asks for {N(total)} tasks ({N(services)} as services' largest desired counts, {N(runTasks)} by RunTask{(jobTasks > 0 ? $", {N(jobTasks)} for batch jobs and their retries" : "")}), more than {N(Limits.Tasks)} ({Limits.Hint("tasks")})");
    }

    /// <summary>The instances registered when the run starts (each is a grain with its own state). Null when within the bound.</summary>
    private ScenarioError? CheckInstanceCount(IReadOnlyList<AccountSpec> accounts)
    {
        long total = 0;
        foreach (var cp in accounts.SelectMany(a => a.Clusters).SelectMany(c => c.CapacityProviders))
        {
            total += cp.InitialInstances + cp.Instances.Sum(i => (long)i.Count);
        }
        if (total <= Limits.Instances)
        {
            return null;
        }
        return new ScenarioError(_ctx.File, 1, 1, "",
            $"the scenario registers {total.ToString("N0", CultureInfo.InvariantCulture)} instances at the start (initialInstances and EXTERNAL counts), more than {Limits.Instances.ToString("N0", CultureInfo.InvariantCulture)} ({Limits.Hint("instances")})");
    }

    private readonly ErrorList _warnings = new();

    /// <summary>A written timeline entry after the end of the run never happens: say so (an error under --strict).</summary>
    private void WarnIfAfterEnd(TimelineEntry entry, YamlNode node, string path, TimeSpan? end, bool untilSettled)
    {
        if (end is not { } e || entry.At <= e)
        {
            return;
        }
        var at = node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode("at"), out var v) ? v : node;
        _warnings.Add(new ScenarioError(_ctx.File, (int)at.Start.Line, (int)at.Start.Column, $"{path}.at",
            untilSettled
                ? $"at {Duration.Format(entry.At)} is after the run's maxDuration ({Duration.Format(e)}); this entry never happens"
                : $"at {Duration.Format(entry.At)} is after the end of the run (duration {Duration.Format(e)}); this entry never happens"));
    }
}
