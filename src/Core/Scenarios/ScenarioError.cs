using Scheduler.Core.Catalog;

namespace Scheduler.Core.Scenarios;

/// <summary>One problem in a scenario (or catalog) file. <see cref="Line"/> and <see cref="Column"/> are 1-based;
/// <see cref="Field"/> is a path such as <c>accounts[0].clusters[0].services[1].taskDefinition</c>
/// (empty for problems of the whole file).</summary>
public sealed record ScenarioError(string File, int Line, int Column, string Field, string Message)
{
    /// <summary>Never more than a line of a terminal's worth of a value: see <see cref="Printable"/>.</summary>
    public string Field { get; init; } = Printable(Field);

    /// <summary>A message quoting a value of megabytes, or control characters, prints as a short, harmless line.</summary>
    public string Message { get; init; } = Printable(Message);

    public string File { get; init; } = Printable(File);

    /// <summary>Longest text of a message or a field kept whole; longer ones keep their start and end.</summary>
    public const int MaxLength = 1_000;

    /// <summary>
    /// Control characters (a NUL, an escape sequence that would recolour the terminal) written as <c>\uXXXX</c>, and
    /// a text longer than <see cref="MaxLength"/> cut in the middle with a note of how much was left out.
    /// </summary>
    public static string Printable(string text)
    {
        if (text.Length <= MaxLength && !text.Any(char.IsControl))
        {
            return text;
        }
        var b = new System.Text.StringBuilder(Math.Min(text.Length, MaxLength + 64));
        const int head = MaxLength * 7 / 10;
        const int tail = MaxLength / 4;
        void Append(ReadOnlySpan<char> part)
        {
            foreach (var c in part)
            {
                if (char.IsControl(c))
                {
                    b.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                }
                else
                {
                    b.Append(c);
                }
            }
        }
        if (text.Length <= MaxLength)
        {
            Append(text);
            return b.ToString();
        }
        Append(text.AsSpan(0, head));
        b.Append(System.Globalization.CultureInfo.InvariantCulture, $" [... {text.Length - head - tail:N0} characters left out ...] ");
        Append(text.AsSpan(text.Length - tail));
        return b.ToString();
    }

    public override string ToString() =>
        Field.Length == 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Field}: {Message}";
}

/// <summary>The outcome of loading a scenario: a valid <see cref="Scenario"/>, or every error found.</summary>
public sealed class ScenarioLoadResult
{
    public ScenarioLoadResult(Scenario? scenario, IReadOnlyList<ScenarioError> errors, InstanceTypeCatalog? catalog = null,
        IReadOnlyList<ScenarioError>? warnings = null)
    {
        Warnings = warnings ?? [];
        Errors = errors;
        _errorCount = errors.Count;
        Scenario = errors.Count == 0 ? scenario : null;
        Catalog = Scenario is null ? null : catalog;
    }

    private readonly int _errorCount;
    private readonly int _warningCount;

    /// <summary>The scenario; null when there are errors.</summary>
    public Scenario? Scenario { get; }
    /// <summary>How many errors a command prints; it counts the rest.</summary>
    public const int PrintedErrors = 100;
    /// <summary>
    /// The first errors, in file order (errors of a referenced catalog file follow the scenario's own): as many as a
    /// command prints; <see cref="ErrorCount"/> counts them all.
    /// </summary>
    public IReadOnlyList<ScenarioError> Errors { get; }

    /// <summary>Every error found, printed or not (never fewer than <see cref="Errors"/> holds).</summary>
    public int ErrorCount { get => Math.Max(_errorCount, Errors.Count); init => _errorCount = value; }

    /// <summary>Every warning found; <see cref="Warnings"/> holds the first ones.</summary>
    public int WarningCount { get => Math.Max(_warningCount, Warnings.Count); init => _warningCount = value; }
    /// <summary>Things that are allowed but probably not meant (e.g. a timeline entry after the end of the run);
    /// <c>--strict</c> makes them errors.</summary>
    public IReadOnlyList<ScenarioError> Warnings { get; }
    /// <summary>The instance type catalog the scenario runs with (built-in, or its <c>instanceCatalog</c> file).</summary>
    public InstanceTypeCatalog? Catalog { get; }
    public bool Ok => Scenario is not null;
    /// <summary>The scenario's trace replays (pods, their mapping and static fit), for accounting and reports.</summary>
    public IReadOnlyList<Workloads.TraceReplayPlan> TraceReplays { get; init; } = [];
}
