using System.Globalization;
using System.Text.RegularExpressions;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Reporting;

/// <summary>What a threshold's number means, and so which units its value may carry.</summary>
public enum ThresholdUnit { Count, Seconds, Days, Percent, Dollars, Hours, PerSecond }

/// <summary>
/// A pass/fail condition on a summary figure, as load-testing tools give CI an exit code:
/// <c>timeToRunning.p99&gt;300s</c> fails the run when the 99th percentile is over five minutes.
/// The condition names what must NOT happen; the threshold passes when it is false.
/// </summary>
public sealed record Threshold(string Text, string Key, string Operator, double Value, ThresholdUnit Unit)
{
    /// <summary>The figure's value in this run (seconds, days, percent, dollars ... as the key's unit says).</summary>
    public double Measure(RunSummary s) => Thresholds.Measure(s, Key);

    /// <summary>True when the condition holds, i.e. the threshold fails.</summary>
    public bool Breached(double measured) => Operator switch
    {
        ">" => measured > Value,
        ">=" => measured >= Value,
        "<" => measured < Value,
        "<=" => measured <= Value,
        "==" => measured == Value,
        _ => measured != Value,
    };
}

public sealed record ThresholdResult(Threshold Threshold, double Measured, bool Failed);

public static partial class Thresholds
{
    /// <summary>Figures with a fixed name, and their units.</summary>
    private static readonly Dictionary<string, ThresholdUnit> Scalars = new(StringComparer.Ordinal)
    {
        ["tasksLaunched"] = ThresholdUnit.Count,
        ["tasksHealthy"] = ThresholdUnit.Count,
        ["unplaceable"] = ThresholdUnit.Count,
        ["timeToRunning.p50"] = ThresholdUnit.Seconds,
        ["timeToRunning.p90"] = ThresholdUnit.Seconds,
        ["timeToRunning.p99"] = ThresholdUnit.Seconds,
        ["timeToRunning.max"] = ThresholdUnit.Seconds,
        ["maxInstanceAgeDays"] = ThresholdUnit.Days,
        ["oomKills"] = ThresholdUnit.Count,
        ["instanceHours"] = ThresholdUnit.Hours,
        ["cost"] = ThresholdUnit.Dollars,
        ["reservedUtilisation.cpuPercent"] = ThresholdUnit.Percent,
        ["reservedUtilisation.memoryPercent"] = ThresholdUnit.Percent,
        ["launchRate"] = ThresholdUnit.PerSecond,
        ["lastHealthyAt"] = ThresholdUnit.Seconds,
        ["simulatedSeconds"] = ThresholdUnit.Seconds,
        ["wallSeconds"] = ThresholdUnit.Seconds,
        ["ticks"] = ThresholdUnit.Count,
        ["events"] = ThresholdUnit.Count,
        ["eventsPerWallSecond"] = ThresholdUnit.PerSecond,
        ["runTaskTasksRefused"] = ThresholdUnit.Count,
        ["fargateVcpuHours"] = ThresholdUnit.Hours,
        ["fargateGbHours"] = ThresholdUnit.Hours,
        ["jobQueueWait.p50"] = ThresholdUnit.Seconds,
        ["jobQueueWait.p90"] = ThresholdUnit.Seconds,
        ["jobQueueWait.p99"] = ThresholdUnit.Seconds,
        ["jobQueueWait.max"] = ThresholdUnit.Seconds,
        ["jobDrain.tasksPerSecond"] = ThresholdUnit.PerSecond,
        ["jobDrain.medianTasksPerSecond"] = ThresholdUnit.PerSecond,
    };

    /// <summary>
    /// Figures by name (<c>throttles.runTask</c>): the group alone is the total (for
    /// <c>minHealthyPercentDuringDrains</c>, the lowest over services; 100 without drains). A key the run never
    /// produced counts as 0. Groups whose keys are known in advance reject unknown ones.
    /// </summary>
    private static readonly Dictionary<string, (ThresholdUnit Unit, string[]? Keys)> Groups = new(StringComparer.Ordinal)
    {
        ["throttles"] = (ThresholdUnit.Count, AllBuckets),
        ["throttledTasks"] = (ThresholdUnit.Count, AllBuckets),
        ["placementsByPhase"] = (ThresholdUnit.Count, ["1", "2", "3"]),
        ["replacementsByReason"] = (ThresholdUnit.Count,
            [DrainReasons.PatchDay14, DrainReasons.PatchDay21, DrainReasons.MaxLifetime, DrainReasons.MaintenanceEvent, DrainReasons.Manual,
             DrainReasons.Consolidation, DrainReasons.SpotInterruption, DrainReasons.ZoneFailure, DrainReasons.AgentDisconnect]),
        ["oomKillsByScope"] = (ThresholdUnit.Count, [OomScopes.Container, OomScopes.Host]),
        ["costByCapacityType"] = (ThresholdUnit.Dollars, [.. RunFleet.AllTypes.Select(RunFleet.Name)]),
        ["tasksStoppedByReason"] = (ThresholdUnit.Count, null),
        ["instancesLaunched"] = (ThresholdUnit.Count, null),
        ["apiErrors"] = (ThresholdUnit.Count, null),
        ["jobsByState"] = (ThresholdUnit.Count, [Batch.JobStates.Submitted, Batch.JobStates.Pending, Batch.JobStates.Runnable,
            Batch.JobStates.Starting, Batch.JobStates.Running, Batch.JobStates.Succeeded, Batch.JobStates.Failed]),
        ["minHealthyPercentDuringDrains"] = (ThresholdUnit.Percent, null),
    };

    private static string[] AllBuckets =>
        [BucketNames.FargateOnDemand, BucketNames.FargateSpot, BucketNames.RunTask, BucketNames.ServiceDeploymentFargate, BucketNames.ServiceDeploymentEc2];

    /// <summary>Every key a threshold may name (groups stand for their totals), for help and error messages.</summary>
    public static IEnumerable<string> Keys => Scalars.Keys.Concat(Groups.SelectMany(g =>
        (g.Value.Keys ?? ["<name>"]).Select(k => $"{g.Key}.{k}").Prepend(g.Key))).Order(StringComparer.Ordinal);

    [GeneratedRegex(@"^\s*(?<key>[A-Za-z][A-Za-z0-9]*(\.[^<>=!]+)?)\s*(?<op>>=|<=|==|!=|>|<)\s*(?<value>[^<>=!\s]\S*)\s*$")]
    private static partial Regex Expression();

    /// <summary>Parses <c>key op value[unit]</c>; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string text, out Threshold? threshold, out string error)
    {
        threshold = null;
        var m = Expression().Match(text);
        if (!m.Success)
        {
            error = $"'{text}' is not a threshold: write KEY OP VALUE, e.g. \"timeToRunning.p99>300s\" (OP is one of > >= < <= == !=)";
            return false;
        }
        var key = m.Groups["key"].Value.Trim();
        if (!TryUnit(key, out var unit, out error))
        {
            return false;
        }
        if (!TryValue(m.Groups["value"].Value, unit, out var value, out error))
        {
            error = $"'{text}': {error}";
            return false;
        }
        threshold = new Threshold(text, key, m.Groups["op"].Value, value, unit);
        return true;
    }

    private static bool TryUnit(string key, out ThresholdUnit unit, out string error)
    {
        error = "";
        if (Scalars.TryGetValue(key, out unit))
        {
            return true;
        }
        var dot = key.IndexOf('.', StringComparison.Ordinal);
        var group = dot < 0 ? key : key[..dot];
        if (Groups.TryGetValue(group, out var g))
        {
            unit = g.Unit;
            if (dot < 0 || g.Keys is null || g.Keys.Contains(key[(dot + 1)..], StringComparer.Ordinal))
            {
                return true;
            }
            error = $"unknown key '{key}': {group} has {string.Join(", ", g.Keys)}";
            return false;
        }
        var near = Keys.Where(k => k.StartsWith(group, StringComparison.OrdinalIgnoreCase) || group.StartsWith(k.Split('.')[0], StringComparison.OrdinalIgnoreCase)).Take(5).ToList();
        error = $"unknown key '{key}'" + (near.Count > 0 ? $" (did you mean {string.Join(", ", near)}?)" : "")
            + $"; keys: {string.Join(", ", Scalars.Keys.Concat(Groups.Keys).Order(StringComparer.Ordinal))}";
        return false;
    }

    private static bool TryValue(string text, ThresholdUnit unit, out double value, out string error)
    {
        error = "";
        value = 0;
        static bool Number(string s, out double v) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v);
        switch (unit)
        {
            case ThresholdUnit.Seconds or ThresholdUnit.Days:
                if (Number(text, out value))
                {
                    return true;
                }
                if (Duration.TryParse(text, out var span))
                {
                    value = unit == ThresholdUnit.Seconds ? span.TotalSeconds : span.TotalDays;
                    return true;
                }
                error = $"'{text}' is not a duration (e.g. 300s, 5m, 2h, 14d)";
                return false;
            case ThresholdUnit.Percent when text.EndsWith('%') && Number(text[..^1], out value):
                return true;
            case ThresholdUnit.Dollars when text.StartsWith('$') && Number(text[1..], out value):
                return true;
            case ThresholdUnit.Hours when text.EndsWith('h') && Number(text[..^1], out value):
                return true;
            case ThresholdUnit.PerSecond when text.EndsWith("/s", StringComparison.Ordinal) && Number(text[..^2], out value):
                return true;
        }
        if (Number(text, out value))
        {
            return true;
        }
        error = unit switch
        {
            ThresholdUnit.Count => $"'{text}' is not a count (a plain number; this key has no unit)",
            ThresholdUnit.Percent => $"'{text}' is not a percentage (e.g. 95 or 95%)",
            ThresholdUnit.Dollars => $"'{text}' is not an amount (e.g. 100 or $100)",
            ThresholdUnit.Hours => $"'{text}' is not a number of hours (e.g. 500 or 500h)",
            _ => $"'{text}' is not a rate (e.g. 4.5 or 4.5/s)",
        };
        return false;
    }

    /// <summary>The figure a key names, in the key's unit.</summary>
    public static double Measure(RunSummary s, string key)
    {
        switch (key)
        {
            case "tasksLaunched": return s.TasksLaunched;
            case "tasksHealthy": return s.TasksHealthy;
            case "unplaceable": return s.Unplaceable;
            case "timeToRunning.p50": return s.TimeToRunning.P50;
            case "timeToRunning.p90": return s.TimeToRunning.P90;
            case "timeToRunning.p99": return s.TimeToRunning.P99;
            case "timeToRunning.max": return s.TimeToRunning.Max;
            case "maxInstanceAgeDays": return s.MaxInstanceAgeDays;
            case "oomKills": return s.OomKills;
            case "instanceHours": return s.InstanceHours;
            case "cost": return (double)s.Cost;
            case "reservedUtilisation.cpuPercent": return s.ReservedUtilisation.CpuPercent;
            case "reservedUtilisation.memoryPercent": return s.ReservedUtilisation.MemoryPercent;
            case "launchRate": return s.LaunchRate;
            case "lastHealthyAt": return s.LastHealthyAt;
            case "simulatedSeconds": return s.SimulatedSeconds;
            case "wallSeconds": return s.WallSeconds;
            case "ticks": return s.Ticks;
            case "events": return s.Events;
            case "eventsPerWallSecond": return s.EventsPerWallSecond;
            case "runTaskTasksRefused": return s.RunTaskTasksRefused;
            case "fargateVcpuHours": return s.FargateVcpuHours;
            case "fargateGbHours": return s.FargateGbHours;
            case "jobQueueWait.p50": return s.JobQueueWait.P50;
            case "jobQueueWait.p90": return s.JobQueueWait.P90;
            case "jobQueueWait.p99": return s.JobQueueWait.P99;
            case "jobQueueWait.max": return s.JobQueueWait.Max;
            case "jobDrain.tasksPerSecond": return s.JobDrain.TasksPerSecond;
            case "jobDrain.medianTasksPerSecond": return s.JobDrain.MedianTasksPerSecond;
        }
        var dot = key.IndexOf('.', StringComparison.Ordinal);
        var (group, sub) = dot < 0 ? (key, null) : (key[..dot], key[(dot + 1)..]);
        if (group == "minHealthyPercentDuringDrains")
        {
            var values = s.MinHealthyPercentDuringDrains;
            return sub is null ? values.Values.DefaultIfEmpty(100).Min() : values.GetValueOrDefault(sub, 100);
        }
        IEnumerable<KeyValuePair<string, double>> figures = group switch
        {
            "throttles" => s.Throttles.Select(kv => KeyValuePair.Create(kv.Key, (double)kv.Value)),
            "throttledTasks" => s.ThrottledTasks.Select(kv => KeyValuePair.Create(kv.Key, (double)kv.Value)),
            "placementsByPhase" => s.PlacementsByPhase.Select(kv => KeyValuePair.Create(kv.Key, (double)kv.Value)),
            "replacementsByReason" => s.ReplacementsByReason.Select(kv => KeyValuePair.Create(kv.Key, (double)kv.Value)),
            "oomKillsByScope" => s.OomKillsByScope.Select(kv => KeyValuePair.Create(kv.Key, (double)kv.Value)),
            "costByCapacityType" => s.CostByCapacityType.Select(kv => KeyValuePair.Create(kv.Key, (double)kv.Value)),
            "tasksStoppedByReason" => s.TasksStoppedByReason.Select(kv => KeyValuePair.Create(kv.Key, (double)kv.Value)),
            "instancesLaunched" => s.InstancesLaunched.Select(kv => KeyValuePair.Create(kv.Key, (double)kv.Value)),
            "apiErrors" => s.ApiErrors.Select(kv => KeyValuePair.Create(kv.Key, (double)kv.Value)),
            "jobsByState" => s.JobsByState.Select(kv => KeyValuePair.Create(kv.Key, (double)kv.Value)),
            _ => throw new ArgumentException($"unknown key '{key}'", nameof(key)),
        };
        return figures.Where(kv => sub is null || kv.Key == sub).Sum(kv => kv.Value);
    }

    public static IReadOnlyList<ThresholdResult> Evaluate(IEnumerable<Threshold> thresholds, RunSummary summary) =>
        thresholds.Select(t =>
        {
            var measured = t.Measure(summary);
            return new ThresholdResult(t, measured, t.Breached(measured));
        }).ToList();

    /// <summary>A value with its unit, as the end-of-run table shows it.</summary>
    public static string Format(double value, ThresholdUnit unit) => unit switch
    {
        ThresholdUnit.Seconds => $"{value.ToString("0.###", CultureInfo.InvariantCulture)}s",
        ThresholdUnit.Days => $"{value.ToString("0.###", CultureInfo.InvariantCulture)}d",
        ThresholdUnit.Percent => $"{value.ToString("0.#", CultureInfo.InvariantCulture)}%",
        ThresholdUnit.Dollars => $"${value.ToString("0.00", CultureInfo.InvariantCulture)}",
        ThresholdUnit.Hours => $"{value.ToString("0.###", CultureInfo.InvariantCulture)}h",
        ThresholdUnit.PerSecond => $"{value.ToString("0.###", CultureInfo.InvariantCulture)}/s",
        _ => value.ToString("0.###", CultureInfo.InvariantCulture),
    };
}
