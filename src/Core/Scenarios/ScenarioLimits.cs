using System.Globalization;

namespace Scheduler.Core.Scenarios;

/// <summary>
/// Bounds on what a scenario file may expand to, so that a small file (YAML aliases, a generator with large
/// counts) cannot exhaust memory or time before anything is reported. Each bound has a name by which
/// <c>--limit NAME=N</c> raises it; a file that passes a bound gets one error naming the bound and how to raise it.
/// </summary>
public sealed record ScenarioLimits
{
    public static readonly ScenarioLimits Default = new();

    /// <summary>Size of the scenario file in bytes.</summary>
    public long Bytes { get; init; } = 64L << 20;

    /// <summary>Deepest nesting of lists and mappings in the file.</summary>
    public int Nesting { get; init; } = 64;

    /// <summary>Values (scalars, lists and mappings) the file holds once every alias is replaced by what it names.</summary>
    public long Expansion { get; init; } = 1_000_000;

    /// <summary>Accounts, clusters, capacity providers, task definitions, services and job queues, written or generated.</summary>
    public long Entities { get; init; } = 200_000;

    /// <summary>Tasks the scenario asks for: every service's desired count plus every RunTask's count.</summary>
    public long Tasks { get; init; } = 5_000_000;

    /// <summary>Timeline entries, written or generated.</summary>
    public long Timeline { get; init; } = 1_000_000;

    /// <summary>Instances registered when the run starts: every provider's initialInstances plus every EXTERNAL count.</summary>
    public long Instances { get; init; } = 100_000;

    /// <summary>Characters in one value (a scalar: a name, a number, a string) of the file, or of a file it imports.</summary>
    public int Length { get; init; } = 65_536;

    /// <summary>The names <c>--limit</c> accepts, with what each bounds.</summary>
    public static readonly IReadOnlyDictionary<string, string> Names = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["bytes"] = "size of the scenario file in bytes",
        ["nesting"] = "deepest nesting of lists and mappings",
        ["expansion"] = "values in the file after YAML aliases are expanded",
        ["entities"] = "accounts, clusters, capacity providers, task definitions, services and job queues",
        ["tasks"] = "service desired counts, RunTask counts, batch jobs times their tries",
        ["timeline"] = "timeline entries, written or generated",
        ["instances"] = "instances registered at the start (initialInstances, EXTERNAL counts)",
        ["length"] = "characters in one value (a name, a string)",
    };

    public long Get(string name) => name switch
    {
        "bytes" => Bytes,
        "nesting" => Nesting,
        "expansion" => Expansion,
        "entities" => Entities,
        "tasks" => Tasks,
        "timeline" => Timeline,
        "instances" => Instances,
        "length" => Length,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown limit"),
    };

    /// <summary>How the message of a passed bound ends: the bound and how to raise it.</summary>
    public string Hint(string name) =>
        $"limit {Get(name).ToString("N0", CultureInfo.InvariantCulture)}; raise it with --limit {name}=N";

    /// <summary>
    /// Applies <c>NAME=N</c> settings (as given to <c>--limit</c>) to these limits. Returns null and sets
    /// <paramref name="error"/> when a setting is malformed or names no limit.
    /// </summary>
    public ScenarioLimits? With(IEnumerable<string> settings, out string? error)
    {
        var limits = this;
        error = null;
        foreach (var setting in settings)
        {
            var eq = setting.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? setting : setting[..eq];
            if (!Names.ContainsKey(name))
            {
                error = $"--limit: unknown limit '{name}'{Hints.DidYouMean(name, Names.Keys)}; expected NAME=N with NAME one of {string.Join(", ", Names.Keys)}";
                return null;
            }
            var max = name switch
            {
                "nesting" => 1_000,
                // A value is one .NET string: at most about a billion characters.
                "length" => 1_000_000_000,
                _ => 1_000_000_000_000,
            };
            if (eq < 0 || !long.TryParse(setting[(eq + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > max)
            {
                error = $"--limit {name}: expected {name}=N with N a whole number between 1 and {max.ToString("N0", CultureInfo.InvariantCulture)}, got '{setting}'";
                return null;
            }
            limits = name switch
            {
                "bytes" => limits with { Bytes = n },
                "nesting" => limits with { Nesting = (int)n },
                "expansion" => limits with { Expansion = n },
                "entities" => limits with { Entities = n },
                "tasks" => limits with { Tasks = n },
                "length" => limits with { Length = (int)n },
                "instances" => limits with { Instances = n },
                _ => limits with { Timeline = n },
            };
        }
        return limits;
    }
}

/// <summary>How far a load has come: the entities and timeline entries read (written or generated) so far.</summary>
public readonly record struct ScenarioLoadProgress(long Entities, long TimelineEntries)
{
    /// <summary>A load reports its progress each time one of the counts passes another multiple of this.</summary>
    public const long Every = 1 << 16;
}

/// <summary>Thrown inside the loader when a bound is passed; the loader turns it into its one error and stops.</summary>
internal sealed class LimitExceededException(ScenarioError error) : Exception(error.Message)
{
    public ScenarioError Error { get; } = error;
}
