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

    /// <summary>Counts entities (accounts, clusters, capacity providers, task definitions, services); throws past the bound.</summary>
    private void CountEntities(long n, YamlNode? at, string field)
    {
        _entities += n;
        if (_entities > Limits.Entities)
        {
            throw new LimitExceededException(LimitError(at, field,
                $"the scenario defines more than {Limits.Entities:N0} accounts, clusters, capacity providers, task definitions and services ({Limits.Hint("entities")})"));
        }
    }

    private static long EntitiesOf(ClusterSpec c) => 1L + c.CapacityProviders.Count + c.TaskDefinitions.Count + c.Services.Count;

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
        if (++_timelineEntries > Limits.Timeline)
        {
            throw new LimitExceededException(LimitError(at, field,
                $"the scenario has more than {Limits.Timeline:N0} timeline entries, written or generated ({Limits.Hint("timeline")}; or lower the rates or shorten the run)"));
        }
    }

    /// <summary>
    /// The tasks the scenario asks for: each service at the largest desired count it is ever given, plus every
    /// RunTask's count. Null when within the bound, else the error.
    /// </summary>
    private ScenarioError? CheckTaskCount(IReadOnlyList<AccountSpec> accounts, IReadOnlyList<TimelineEntry> timeline)
    {
        // Updates are few next to services: keep the largest desired count per updated service only.
        var updated = new Dictionary<(string, string, string), long>();
        long runTasks = 0;
        foreach (var e in timeline)
        {
            switch (e.Action)
            {
                case RunTaskAction r:
                    runTasks += r.Count;
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
        var total = services + runTasks;
        if (total <= Limits.Tasks)
        {
            return null;
        }
        string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        return new ScenarioError(_ctx.File, 1, 1, "",
            $"the scenario asks for {N(total)} tasks ({N(services)} as services' largest desired counts, {N(runTasks)} by RunTask), more than {N(Limits.Tasks)} ({Limits.Hint("tasks")})");
    }

    private readonly List<ScenarioError> _warnings = [];

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
