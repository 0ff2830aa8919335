using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Scheduler.Core.Scenarios;

/// <summary>
/// Passes a YAML parser's events through while checking two bounds of <see cref="ScenarioLimits"/>: how deep lists
/// and mappings nest, and how many values the document holds once every alias is replaced by the node it names
/// (a few lines of aliases can name billions). An alias used inside the node it names is refused as well.
/// Past a bound it throws <see cref="BoundExceededException"/>, before the tree is built any deeper or larger.
/// </summary>
internal sealed class BoundedParser(IParser inner, ScenarioLimits limits, CancellationToken cancellation = default) : IParser
{
    private readonly Stack<(long StartCount, string? Anchor)> _open = new();
    private readonly Dictionary<string, long> _sizes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _openAnchors = new(StringComparer.Ordinal);
    private long _count;
    private long _events;

    public ParsingEvent? Current => inner.Current;

    public bool MoveNext()
    {
        if (!inner.MoveNext())
        {
            return false;
        }
        var e = inner.Current!;
        if ((++_events & 0xFFF) == 0)
        {
            cancellation.ThrowIfCancellationRequested();
        }
        switch (e)
        {
            case Scalar s:
                _count++;
                if (s.Value.Length > limits.Length)
                {
                    throw new BoundExceededException(s.Start,
                        $"a value of {s.Value.Length:N0} characters is longer than a value may be ({limits.Hint("length")})");
                }
                if (!s.Anchor.IsEmpty)
                {
                    _sizes[s.Anchor.Value] = 1;
                }
                break;
            case NodeEvent n and (SequenceStart or MappingStart):
                if (_open.Count >= limits.Nesting)
                {
                    throw new BoundExceededException(n.Start,
                        $"lists and mappings are nested more than {limits.Nesting:N0} deep ({limits.Hint("nesting")})");
                }
                var anchor = n.Anchor.IsEmpty ? null : n.Anchor.Value;
                if (anchor is not null)
                {
                    _openAnchors.Add(anchor);
                }
                _open.Push((_count, anchor));
                _count++;
                break;
            case SequenceEnd or MappingEnd:
                var (startCount, closed) = _open.Pop();
                if (closed is not null)
                {
                    _openAnchors.Remove(closed);
                    _sizes[closed] = _count - startCount;
                }
                break;
            case AnchorAlias alias:
                if (_openAnchors.Contains(alias.Value.Value))
                {
                    throw new BoundExceededException(alias.Start,
                        $"alias *{alias.Value.Value} is used inside the node it names (a recursive alias)");
                }
                _count += _sizes.GetValueOrDefault(alias.Value.Value, 1);
                break;
        }
        if (_count > limits.Expansion)
        {
            throw new BoundExceededException(e.Start,
                $"the file holds more than {limits.Expansion:N0} values once its aliases are expanded ({limits.Hint("expansion")})");
        }
        return true;
    }
}

/// <summary>A YAML document passed one of the bounds of <see cref="BoundedParser"/>.</summary>
internal sealed class BoundExceededException(Mark at, string message) : Exception(message)
{
    public Mark At { get; } = at;
}
