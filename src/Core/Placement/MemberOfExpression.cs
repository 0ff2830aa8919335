using System.Text.RegularExpressions;

namespace Scheduler.Core.Placement;

/// <summary>
/// A parsed <c>memberOf</c> placement constraint in the subset of the ECS cluster query language the
/// simulator models: terms <c>attribute:NAME OP VALUE</c> with OP one of <c>==</c>, <c>!=</c>, <c>=~</c>
/// (wildcard <c>*</c>), <c>!~</c>, <c>in [a, b]</c>, <c>not_in [a, b]</c>, or <c>attribute:NAME exists</c> /
/// <c>not_exists</c>, joined by <c>and</c> / <c>or</c> (<c>and</c> binds tighter). Attributes an instance
/// always has: <c>ecs.instance-type</c>, <c>ecs.availability-zone</c>, <c>ecs.os-type</c> (linux),
/// <c>ecs.cpu-architecture</c> (x86_64), <c>ecs.instance-family</c> (c, m, r, g, p ...).
/// </summary>
public sealed class MemberOfExpression
{
    private readonly Term[][] _anyOf;

    private MemberOfExpression(Term[][] anyOf, string text)
    {
        _anyOf = anyOf;
        Text = text;
    }

    public string Text { get; }

    /// <summary>Parses <paramref name="text"/>; on failure returns null and says why in <paramref name="error"/>.</summary>
    public static MemberOfExpression? TryParse(string text, out string? error)
    {
        error = null;
        var ors = new List<Term[]>();
        foreach (var alternative in SplitWord(text, "or"))
        {
            var ands = new List<Term>();
            foreach (var part in SplitWord(alternative, "and"))
            {
                var term = ParseTerm(part.Trim(), out error);
                if (term is null)
                {
                    return null;
                }
                ands.Add(term);
            }
            ors.Add([.. ands]);
        }
        return new MemberOfExpression([.. ors], text);
    }

    public static MemberOfExpression Parse(string text) =>
        TryParse(text, out var error) ?? throw new FormatException($"memberOf expression '{text}': {error}");

    /// <summary>Does an instance with these attributes satisfy the expression?</summary>
    public bool Matches(Func<string, string?> attribute)
    {
        foreach (var all in _anyOf)
        {
            var ok = true;
            foreach (var term in all)
            {
                if (!term.Matches(attribute(term.Attribute)))
                {
                    ok = false;
                    break;
                }
            }
            if (ok)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Could an instance in <paramref name="zone"/> satisfy the expression? Only the terms on
    /// <c>ecs.availability-zone</c> are decided; any other term may hold for some instance there.
    /// </summary>
    public bool AllowsZone(string zone)
    {
        foreach (var all in _anyOf)
        {
            var ok = true;
            foreach (var term in all)
            {
                if (term.Attribute == ZoneAttribute && !term.Matches(zone))
                {
                    ok = false;
                    break;
                }
            }
            if (ok)
            {
                return true;
            }
        }
        return false;
    }

    public const string ZoneAttribute = "ecs.availability-zone";

    /// <summary>The zones (of <paramref name="zones"/>, in their order) where a task with this memberOf may run; all of them without one.</summary>
    public static IReadOnlyList<string> UsableZones(string? expression, IReadOnlyList<string> zones)
    {
        if (expression is null || TryParse(expression, out _) is not { } parsed)
        {
            return zones;
        }
        return zones.Where(parsed.AllowsZone).ToList();
    }

    /// <summary>The attributes every instance has, as <see cref="Matches"/> looks them up.</summary>
    public static string? BuiltInAttribute(string name, string instanceType, string family, string zone) => name switch
    {
        "ecs.instance-type" => instanceType,
        "ecs.availability-zone" => zone,
        "ecs.instance-family" => family,
        "ecs.os-type" => "linux",
        "ecs.cpu-architecture" => "x86_64",
        _ => null,
    };

    private static IEnumerable<string> SplitWord(string text, string word) =>
        Regex.Split(text, $@"\s+{word}\s+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static readonly Regex TermPattern = new(
        @"^attribute:(?<name>[A-Za-z0-9_.\-]+)\s*(?:(?<op>==|!=|=~|!~)\s*(?<value>\S+)|\s+(?<op>in|not_in)\s*\[(?<list>[^\]]*)\]|\s+(?<op>exists|not_exists))$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);

    private static Term? ParseTerm(string text, out string? error)
    {
        var m = TermPattern.Match(text);
        if (!m.Success)
        {
            error = $"cannot read '{text}'; expected e.g. 'attribute:ecs.instance-type =~ m5.*' or 'attribute:ecs.availability-zone in [a, b]'";
            return null;
        }
        error = null;
        var op = m.Groups["op"].Value;
        string[] values = op switch
        {
            "in" or "not_in" => m.Groups["list"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            "exists" or "not_exists" => [],
            _ => [m.Groups["value"].Value],
        };
        return new Term(m.Groups["name"].Value, op, values);
    }

    private sealed class Term(string attribute, string op, string[] values)
    {
        private readonly Regex? _wildcard = op is "=~" or "!~"
            ? new Regex("^" + Regex.Escape(values[0]).Replace(@"\*", ".*", StringComparison.Ordinal) + "$",
                RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)
            : null;

        public string Attribute { get; } = attribute;

        public bool Matches(string? actual) => op switch
        {
            "exists" => actual is not null,
            "not_exists" => actual is null,
            "==" => actual is not null && string.Equals(actual, values[0], StringComparison.OrdinalIgnoreCase),
            "!=" => actual is null || !string.Equals(actual, values[0], StringComparison.OrdinalIgnoreCase),
            "=~" => actual is not null && _wildcard!.IsMatch(actual),
            "!~" => actual is null || !_wildcard!.IsMatch(actual),
            "in" => actual is not null && values.Contains(actual, StringComparer.OrdinalIgnoreCase),
            _ => actual is null || !values.Contains(actual, StringComparer.OrdinalIgnoreCase),
        };
    }
}
