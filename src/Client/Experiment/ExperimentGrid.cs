using System.Globalization;
using Scheduler.Core.Placement.Sharding;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client.Experiment;

/// <summary>One point of an experiment's grid: the placement every cluster of the scenario gets for that run.</summary>
public sealed record ExperimentPoint(ShardingSpec Spec)
{
    public string ModeName => ExperimentGrid.ModeName(Spec.Mode);

    /// <summary>"-" where the field does not apply (conflict detection outside shared state).</summary>
    public string ConflictName => Spec.Mode == ShardingMode.SharedState ? ExperimentGrid.ConflictName(Spec.Conflict) : "-";

    public string DecisionTime => Duration.Format(TimeSpan.FromMilliseconds(Spec.DecisionTimeMs));

    /// <summary>A name for the run's folder, e.g. <c>shared-state-k4-fine-d1s</c>.</summary>
    public string Label => $"{ModeName}-k{Spec.Shards}" + (Spec.Mode == ShardingMode.SharedState ? $"-{ConflictName}" : "") + $"-d{DecisionTime}";
}

/// <summary>
/// The runs of an experiment: the monolithic scheduler first (the baseline the others are compared with), then for each
/// shard count, mode, conflict detection (shared state only) and decision time one run. Monolithic has one scheduler,
/// so with several shards it is skipped.
/// </summary>
public static class ExperimentGrid
{
    public static string ModeName(ShardingMode mode) => mode switch
    {
        ShardingMode.Monolithic => "monolithic",
        ShardingMode.Partitioned => "partitioned",
        _ => "shared-state",
    };

    public static string ConflictName(ConflictDetection c) => c == ConflictDetection.Fine ? "fine" : "coarse";

    public static List<ExperimentPoint> Expand(IReadOnlyList<int> shards, IReadOnlyList<ShardingMode> modes,
        IReadOnlyList<ConflictDetection> conflicts, IReadOnlyList<long> decisionTimesMs)
    {
        var points = new List<ExperimentPoint> { new(ShardingSpec.Monolithic) };
        foreach (var k in shards)
        {
            foreach (var mode in modes)
            {
                foreach (var conflict in mode == ShardingMode.SharedState ? conflicts : [ConflictDetection.Fine])
                {
                    foreach (var d in decisionTimesMs)
                    {
                        if (mode == ShardingMode.Monolithic && k > 1)
                        {
                            continue;
                        }
                        var point = new ExperimentPoint(new ShardingSpec { Shards = k, Mode = mode, Conflict = conflict, DecisionTimeMs = d });
                        if (!points.Contains(point))
                        {
                            points.Add(point);
                        }
                    }
                }
            }
        }
        return points;
    }

    /// <summary>A comma-separated list of whole numbers from 1 to the most shards a cluster may have.</summary>
    public static List<int>? Shards(string text, List<string> errors) => Items(text, "--shards", errors, s =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k is >= 1 and <= ShardingSpec.MaxShards
            ? (k, null) : (0, $"'{s}' is not a whole number from 1 to {ShardingSpec.MaxShards}"));

    public static List<ShardingMode>? Modes(string text, List<string> errors) => Items<ShardingMode>(text, "--mode", errors, s => s switch
    {
        "monolithic" => (ShardingMode.Monolithic, null),
        "partitioned" => (ShardingMode.Partitioned, null),
        "shared-state" => (ShardingMode.SharedState, null),
        _ => (default, $"unknown mode '{s}'; expected monolithic, partitioned or shared-state"),
    });

    public static List<ConflictDetection>? Conflicts(string text, List<string> errors) => Items<ConflictDetection>(text, "--conflict", errors, s => s switch
    {
        "fine" => (ConflictDetection.Fine, null),
        "coarse" => (ConflictDetection.Coarse, null),
        _ => (default, $"unknown conflict detection '{s}'; expected fine or coarse"),
    });

    public static List<long>? DecisionTimes(string text, List<string> errors) => Items(text, "--decision-time", errors, s =>
        !Duration.TryParse(s, out var d, out var why) ? (0L, why.Length > 0 ? why : $"'{s}' is not a duration")
        : d < TimeSpan.Zero || d > TimeSpan.FromHours(1) ? (0L, $"'{s}' must be between 0s and 1h")
        : d.Ticks % TimeSpan.TicksPerMillisecond != 0 ? (0L, $"'{s}' is finer than the simulator's 1ms resolution")
        : ((long)d.TotalMilliseconds, null));

    private static List<T>? Items<T>(string text, string option, List<string> errors, Func<string, (T Value, string? Error)> parse)
    {
        var items = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new List<T>();
        var ok = true;
        foreach (var item in items)
        {
            if (item.Length == 0)
            {
                errors.Add($"{option}: empty item in '{text}'; expected a comma-separated list");
                ok = false;
                continue;
            }
            var (value, error) = parse(item);
            if (error is not null)
            {
                errors.Add($"{option}: {error}");
                ok = false;
            }
            else if (!values.Contains(value))
            {
                values.Add(value);
            }
        }
        return ok ? values : null;
    }
}
