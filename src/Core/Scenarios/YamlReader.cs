using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Scheduler.Core.Scenarios;

/// <summary>Collects errors for one file and converts YAML nodes to values, reporting (never throwing) on bad input.</summary>
internal sealed partial class YamlContext(string file, ScenarioLimits? limits = null, CancellationToken cancellation = default)
{
    /// <summary>Stops the load (with <see cref="OperationCanceledException"/>) when the command is interrupted.</summary>
    public CancellationToken Cancellation { get; set; } = cancellation;

    public string File { get; } = file;
    /// <summary>Every error counted; the first ones (in file order) kept.</summary>
    public ErrorList Errors { get; } = new();
    public ScenarioLimits Limits { get; } = limits ?? ScenarioLimits.Default;

    /// <summary>
    /// A "did you mean" hint, only while the error will be printed: past the errors a command prints, the rest are
    /// counted, and a file of many unknown names then costs no more than the names.
    /// </summary>
    public string DidYouMean(string given, IEnumerable<string> candidates) =>
        Errors.Count >= ScenarioLoadResult.PrintedErrors ? "" : Hints.DidYouMean(given, candidates);

    public void Error(YamlNode node, string field, string message) =>
        Errors.Add(new ScenarioError(File, (int)node.Start.Line, (int)node.Start.Column, field, message));

    public void Error(Mark mark, string field, string message) =>
        Errors.Add(new ScenarioError(File, (int)mark.Line, (int)mark.Column, field, message));

    /// <summary>Parses YAML (or JSON, which is YAML flow syntax) and returns the root node of its single document.</summary>
    public YamlNode? LoadRoot(string text)
    {
        var trimmed = text.TrimStart();
        if (File.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            // JSON allows tabs as whitespace where YAML does not; outside strings a tab can only be whitespace
            // (JSON strings escape it), so one space per tab keeps every line and column.
            text = text.Replace('\t', ' ');
        }
        var stream = new YamlStream();
        try
        {
            // The node tree is built recursively, and the loader walks an aliased node once per alias: the
            // bounded parser stops a file nested too deep, or too large once its aliases are expanded, first.
            stream.Load(new BoundedParser(new Parser(new StringReader(text)), Limits, Cancellation));
        }
        catch (BoundExceededException e)
        {
            Error(e.At, "", e.Message);
            return null;
        }
        catch (YamlException e)
        {
            var inner = e;
            while (inner.InnerException is YamlException deeper)
            {
                inner = deeper;
            }
            var (line, column) = Locate(text, inner);
            Errors.Add(new ScenarioError(File, line, column, "", "syntax error: " + CleanMessage(inner.Message)));
            return null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            Error(Mark.Empty, "", "syntax error: " + e.Message);
            return null;
        }
        if (stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode))
        {
            Errors.Add(new ScenarioError(File, 1, 1, "", "the file is empty"));
            return null;
        }
        if (stream.Documents.Count > 1)
        {
            Error(stream.Documents[1].RootNode, "", "the file must hold a single document");
        }
        return stream.Documents[0].RootNode;
    }

    /// <summary>
    /// Where a YAML error is. YamlDotNet puts a few errors at the start of the file (a tab used as indentation,
    /// an alias to an unknown anchor); those are found in the text instead.
    /// </summary>
    private static (int Line, int Column) Locate(string text, YamlException e)
    {
        if (e.Start.Index > 0 || e.Start.Line > 1)
        {
            return ((int)e.Start.Line, (int)e.Start.Column);
        }
        var lines = text.Split('\n');
        if (e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase))
        {
            for (var k = 0; k < lines.Length; k++)
            {
                var indent = lines[k].Length - lines[k].TrimStart(' ', '\t').Length;
                var tab = lines[k].IndexOf('\t', StringComparison.Ordinal);
                if (tab >= 0 && tab < indent)
                {
                    return (k + 1, tab + 1);
                }
            }
        }
        var anchor = AnchorName().Match(e.Message);
        if (anchor.Success)
        {
            var alias = new Regex(@"\*" + Regex.Escape(anchor.Groups[1].Value) + @"(?![\w-])");
            for (var k = 0; k < lines.Length; k++)
            {
                var m = alias.Match(lines[k]);
                if (m.Success)
                {
                    return (k + 1, m.Index + 1);
                }
            }
        }
        return ((int)e.Start.Line, (int)e.Start.Column);
    }

    [GeneratedRegex(@"^[+-]?[0-9]+$")]
    private static partial Regex AllDigits();

    [GeneratedRegex(@"anchor '([^']+)'")]
    private static partial Regex AnchorName();

    private static string CleanMessage(string message)
    {
        var m = PositionPrefix().Match(message);
        var rest = m.Success ? message[m.Length..] : message;
        return rest.Length > 0 ? char.ToLowerInvariant(rest[0]) + rest[1..] : message;
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex PositionPrefix();

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s
        && (s.Value is null || s.Value.Length == 0 || s.Value is "~" or "null" or "Null" or "NULL");

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"'{s.Value}'",
        _ => "something else",
    };

    public string? String(YamlNode node, string field)
    {
        if (node is YamlScalarNode { Value: { } v })
        {
            // A quoted string may spell any character with an escape ("\0", "\e"); names and the like may not hold controls.
            foreach (var c in v)
            {
                if (c < ' ' && c is not ('\t' or '\n' or '\r') || c is >= '\u007F' and <= '\u009F')
                {
                    Error(node, field, $"control character U+{(int)c:X4} is not allowed in a value");
                    return null;
                }
            }
            return v;
        }
        Error(node, field, $"expected a string, found {Describe(node)}");
        return null;
    }

    public string? NonEmptyString(YamlNode node, string field)
    {
        var s = String(node, field);
        if (s is not null && s.Trim().Length == 0)
        {
            Error(node, field, "must not be empty");
            return null;
        }
        return s;
    }

    public long? Long(YamlNode node, string field, long min, long max)
    {
        if (node is not YamlScalarNode { Value: { } v })
        {
            Error(node, field, $"expected a whole number, found {Describe(node)}");
            return null;
        }
        if (!long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
        {
            Error(node, field, AllDigits().IsMatch(v)
                ? $"{v} is out of range: must be {(v.StartsWith('-') ? $"at least {min}" : $"at most {max}")}"
                : $"'{v}' is not a whole number");
            return null;
        }
        if (n >= min && n <= max)
        {
            return n;
        }
        // int.MinValue/MaxValue bounds only say "fits an int"; do not print them as if chosen.
        var hasMin = min is not (long.MinValue or int.MinValue);
        var hasMax = max is not (long.MaxValue or int.MaxValue);
        Error(node, field, (hasMin, hasMax) switch
        {
            (true, true) => $"{n} is out of range: must be between {min} and {max}",
            (true, false) when n < min => $"{n} is out of range: must be at least {min}",
            (false, true) when n > max => $"{n} is out of range: must be at most {max}",
            _ => $"{n} is too {(n < min ? "small" : "large")}",
        });
        return null;
    }

    public double? Double(YamlNode node, string field, double min, double max)
    {
        if (node is not YamlScalarNode { Value: { } v })
        {
            Error(node, field, $"expected a number, found {Describe(node)}");
            return null;
        }
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || !double.IsFinite(n))
        {
            Error(node, field, $"'{v}' is not a number");
            return null;
        }
        return CheckRange(node, field, n, min, max) ? n : null;
    }

    private bool CheckRange<T>(YamlNode node, string field, T n, T min, T max) where T : struct, IComparable<T>, IMinMaxValue<T>
    {
        if (n.CompareTo(min) >= 0 && n.CompareTo(max) <= 0)
        {
            return true;
        }
        var message = (min.CompareTo(T.MinValue) > 0, max.CompareTo(T.MaxValue) < 0) switch
        {
            (true, true) => $"{n} is out of range: must be between {min} and {max}",
            (true, false) => $"{n} is out of range: must be at least {min}",
            _ => $"{n} is out of range: must be at most {max}",
        };
        Error(node, field, message);
        return false;
    }

    public bool? Bool(YamlNode node, string field)
    {
        if (node is YamlScalarNode { Value: { } v })
        {
            if (v.Equals("true", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
            if (v.Equals("false", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }
        Error(node, field, $"expected true or false, found {Describe(node)}");
        return null;
    }

    /// <summary>A non-negative duration with millisecond resolution (the simulator's clock).</summary>
    public TimeSpan? Duration(YamlNode node, string field, bool positive = false)
    {
        if (node is not YamlScalarNode { Value: { } v })
        {
            Error(node, field, $"expected a duration, found {Describe(node)}");
            return null;
        }
        if (!Scenarios.Duration.TryParse(v, out var d, out var why))
        {
            Error(node, field, why);
            return null;
        }
        if (d < TimeSpan.Zero)
        {
            Error(node, field, $"negative duration '{v}' is not allowed");
            return null;
        }
        if (positive && d == TimeSpan.Zero)
        {
            Error(node, field, "must be greater than zero");
            return null;
        }
        if (d.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            Error(node, field, $"'{v}' is finer than the simulator's 1ms resolution");
            return null;
        }
        return d;
    }

    public T? Enum<T>(YamlNode node, string field, IReadOnlyDictionary<string, T> values) where T : struct
    {
        var s = String(node, field);
        if (s is null)
        {
            return null;
        }
        foreach (var (name, value) in values)
        {
            if (name.Equals(s, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }
        Error(node, field, $"unknown value '{s}'; expected one of {string.Join(", ", values.Keys)}{DidYouMean(s, values.Keys)}");
        return null;
    }

    /// <summary>The items of a list, with their paths; null (and an error) when it is not a list or holds more than <paramref name="max"/> items.</summary>
    public IReadOnlyList<(YamlNode Node, string Path)>? Sequence(YamlNode node, string field, int max = int.MaxValue)
    {
        if (node is not YamlSequenceNode seq)
        {
            Error(node, field, $"expected a list, found {Describe(node)}");
            return null;
        }
        if (seq.Children.Count > max)
        {
            Error(node, field, $"the list holds {seq.Children.Count:N0} items; at most {max:N0} are allowed here");
            return null;
        }
        return seq.Children.Select((n, i) => (n, $"{field}[{i}]")).ToArray();
    }

    public List<string>? Strings(YamlNode node, string field)
    {
        var items = Sequence(node, field);
        if (items is null)
        {
            return null;
        }
        var result = new List<string>();
        var ok = true;
        foreach (var (n, p) in items)
        {
            var s = NonEmptyString(n, p);
            if (s is null)
            {
                ok = false;
            }
            else
            {
                result.Add(s);
            }
        }
        return ok ? result : null;
    }
}

/// <summary>A YAML mapping with a fixed set of allowed keys; unknown keys are reported when it is opened.</summary>
internal sealed class MapReader
{
    private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);

    private MapReader(YamlContext ctx, YamlMappingNode node, string path)
    {
        Ctx = ctx;
        Node = node;
        Path = path;
    }

    public YamlContext Ctx { get; }
    public YamlMappingNode Node { get; }
    public string Path { get; }

    public static MapReader? Open(YamlContext ctx, YamlNode node, string path, IReadOnlyCollection<string> known)
    {
        // Every item of a scenario is a mapping opened here: an interrupted load stops at the next one.
        ctx.Cancellation.ThrowIfCancellationRequested();
        if (node is not YamlMappingNode map)
        {
            ctx.Error(node, path, $"expected a mapping, found {YamlContext.Describe(node)}");
            return null;
        }
        var reader = new MapReader(ctx, map, path);
        foreach (var (key, value) in map.Children)
        {
            if (key is not YamlScalarNode { Value: { } name } keyScalar)
            {
                ctx.Error(key, path, "a field name must be a plain string");
                continue;
            }
            var field = reader.F(name);
            if (!known.Contains(name))
            {
                ctx.Error(key, field, $"unknown field '{name}'{ctx.DidYouMean(name, known)}");
                continue;
            }
            if (!reader._entries.TryAdd(name, (keyScalar, value)))
            {
                ctx.Error(key, field, $"field '{name}' is given twice");
            }
        }
        return reader;
    }

    public string F(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>The value node of a key that is present and not null.</summary>
    public YamlNode? this[string key] => _entries.TryGetValue(key, out var e) && !YamlContext.IsNull(e.Value) ? e.Value : null;

    public bool Has(string key) => this[key] is not null;

    /// <summary>Whether the key is written at all, even with a null value.</summary>
    public bool Contains(string key) => _entries.ContainsKey(key);

    public YamlNode? KeyNode(string key) => _entries.TryGetValue(key, out var e) ? e.Key : null;

    public YamlNode? Get(string key, bool required)
    {
        if (!required)
        {
            return this[key];
        }
        if (_entries.TryGetValue(key, out var e))
        {
            if (!YamlContext.IsNull(e.Value))
            {
                return e.Value;
            }
            Ctx.Error(e.Key, F(key), $"'{key}' needs a value");
            return null;
        }
        Ctx.Error(Node, F(key), $"missing required field '{key}'");
        return null;
    }

    public string? String(string key, bool required = false) =>
        Get(key, required) is { } n ? Ctx.NonEmptyString(n, F(key)) : null;

    public long? Long(string key, bool required = false, long min = long.MinValue, long max = long.MaxValue) =>
        Get(key, required) is { } n ? Ctx.Long(n, F(key), min, max) : null;

    public int? Int(string key, bool required = false, int min = int.MinValue, int max = int.MaxValue) =>
        Get(key, required) is { } n ? (int?)Ctx.Long(n, F(key), min, max) : null;

    public double? Double(string key, bool required = false, double min = double.MinValue, double max = double.MaxValue) =>
        Get(key, required) is { } n ? Ctx.Double(n, F(key), min, max) : null;

    public bool? Bool(string key, bool required = false) =>
        Get(key, required) is { } n ? Ctx.Bool(n, F(key)) : null;

    public TimeSpan? Duration(string key, bool required = false, bool positive = false) =>
        Get(key, required) is { } n ? Ctx.Duration(n, F(key), positive) : null;

    public T? Enum<T>(string key, IReadOnlyDictionary<string, T> values, bool required = false) where T : struct =>
        Get(key, required) is { } n ? Ctx.Enum(n, F(key), values) : null;

    public List<string>? Strings(string key, bool required = false) =>
        Get(key, required) is { } n ? Ctx.Strings(n, F(key)) : null;

    public IReadOnlyList<(YamlNode Node, string Path)>? Sequence(string key, bool required = false, int max = int.MaxValue) =>
        Get(key, required) is { } n ? Ctx.Sequence(n, F(key), max) : null;

    public MapReader? Map(string key, IReadOnlyCollection<string> known, bool required = false) =>
        Get(key, required) is { } n ? Open(Ctx, n, F(key), known) : null;
}

internal static class Hints
{
    /// <summary>" (did you mean 'x'?)" for the closest candidate within a small edit distance, else "".</summary>
    public static string DidYouMean(string given, IEnumerable<string> candidates)
    {
        // A suggestion is for a typo among a few names: long names and long lists of names get none, so that
        // a file of many unknown references to a generated fleet costs no more than the references.
        if (given.Length > MaxSuggestedLength || candidates is IReadOnlyCollection<string> { Count: > MaxCandidates })
        {
            return "";
        }
        var allowed = Math.Max(1, given.Length / 3);
        var g = given.ToLowerInvariant();
        string? best = null;
        var bestDistance = int.MaxValue;
        var seen = 0;
        foreach (var c in candidates)
        {
            if (++seen > MaxCandidates)
            {
                return "";
            }
            if (Math.Abs(c.Length - given.Length) > allowed)
            {
                continue;
            }
            var d = Levenshtein(g, c.ToLowerInvariant());
            if (d < bestDistance)
            {
                best = c;
                bestDistance = d;
            }
        }
        return best is not null && bestDistance <= allowed ? $" (did you mean '{best}'?)" : "";
    }

    private const int MaxSuggestedLength = 100;
    private const int MaxCandidates = 100;

    /// <summary>Edit distance counting a swap of two neighbours as one edit (optimal string alignment).</summary>
    private static int Levenshtein(string a, string b)
    {
        var prevPrev = new int[b.Length + 1];
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            prev[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    cur[j] = Math.Min(cur[j], prevPrev[j - 2] + 1);
                }
            }
            (prevPrev, prev, cur) = (prev, cur, prevPrev);
        }
        return prev[b.Length];
    }
}
