using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client;

/// <summary>
/// Options whose values are parsed here rather than by the command-line library, so that a malformed value is a
/// plain error naming the option and the expected form (exit 2), never an exception or a .NET type name.
/// </summary>
public static partial class CliOptions
{
    /// <summary>A whole-number option between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min, int max) => new(name)
    {
        Description = $"{description} (default {defaultValue:N0}; {min:N0} to {max:N0})",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => (int)(ParseWhole(r, name, min, max) ?? defaultValue),
    };

    /// <summary>A required whole-number option between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static Option<int> RequiredInt(string name, string description, int min, int max) => new(name)
    {
        Description = $"{description} ({min:N0} to {max:N0})",
        Required = true,
        CustomParser = r => (int)(ParseWhole(r, name, min, max) ?? min),
    };

    /// <summary>A number option between <paramref name="min"/> and <paramref name="max"/> (NaN and infinities are not numbers here).</summary>
    public static Option<double> Number(string name, string description, double defaultValue, double min, double max) => new(name)
    {
        Description = $"{description} (default {defaultValue.ToString(CultureInfo.InvariantCulture)}; {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)})",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            var range = $"a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}";
            if (r.Tokens.Count != 1)
            {
                r.AddError($"{name} takes one value: {range}");
                return defaultValue;
            }
            var text = r.Tokens[0].Value;
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v) || v < min || v > max)
            {
                r.AddError($"{name}: '{text}' is not {range}");
                return defaultValue;
            }
            return v;
        },
    };

    /// <summary>An optional whole-number option (absent: null) within the range of a 64-bit integer.</summary>
    public static Option<long?> OptionalLong(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = r => ParseWhole(r, name, long.MinValue, long.MaxValue),
    };

    private static long? ParseWhole(ArgumentResult r, string name, long min, long max)
    {
        var range = min == long.MinValue ? "a whole number" : $"a whole number from {min:N0} to {max:N0}";
        if (r.Tokens.Count != 1)
        {
            r.AddError($"{name} takes one value: {range}");
            return null;
        }
        var text = r.Tokens[0].Value;
        if (!long.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            r.AddError($"{name}: '{text}' is not a whole number; expected {range}, e.g. {name} {Math.Max(min, 1)}");
            return null;
        }
        if (v < min || v > max)
        {
            r.AddError($"{name}: {v:N0} is out of range; expected {range}");
            return null;
        }
        return v;
    }

    /// <summary><c>--limit NAME=N</c>, repeatable: raises one of the bounds on what a scenario may expand to.</summary>
    public static Option<string[]> Limit() => new("--limit")
    {
        Description = "Raise a bound on what the scenario may expand to, as NAME=N (repeatable). Names and defaults: "
            + string.Join(", ", ScenarioLimits.Names.Keys.Select(k => $"{k} ({ScenarioLimits.Default.Get(k).ToString("N0", CultureInfo.InvariantCulture)})")) + ".",
        HelpName = "NAME=N",
        AllowMultipleArgumentsPerToken = false,
        Validators =
        {
            r =>
            {
                if (ScenarioLimits.Default.With(r.Tokens.Select(t => t.Value), out var error) is null)
                {
                    r.AddError(error!);
                }
            },
        },
    };

    /// <summary>The limits a parse result asks for (the option was validated during parsing).</summary>
    public static ScenarioLimits Limits(ParseResult parse, Option<string[]> option) =>
        ScenarioLimits.Default.With(parse.GetValue(option) ?? [], out _) ?? ScenarioLimits.Default;

    /// <summary><c>--strict</c>: warnings about the scenario are errors.</summary>
    public static Option<bool> Strict() => new("--strict")
    {
        Description = "Treat warnings about the scenario (e.g. a timeline entry after the end of the run) as errors.",
    };

    /// <summary>
    /// The command-line library's own message for a value it could not convert names a .NET type
    /// (<c>System.Nullable`1[System.Int32]</c>); this says what the option expects instead. Other messages pass unchanged.
    /// </summary>
    public static string PlainParseError(string message)
    {
        var m = CannotParse().Match(message);
        if (!m.Success)
        {
            return message;
        }
        var type = m.Groups["type"].Value;
        var expected = type switch
        {
            _ when type.Contains("Int32", StringComparison.Ordinal) || type.Contains("Int64", StringComparison.Ordinal) => "a whole number",
            _ when type.Contains("Double", StringComparison.Ordinal) || type.Contains("Decimal", StringComparison.Ordinal) => "a number",
            _ when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
            _ => "a value of another form (see --help)",
        };
        return $"{m.Groups["option"].Value}: '{m.Groups["value"].Value}' is not {expected}; expected {expected}";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial System.Text.RegularExpressions.Regex CannotParse();
}
