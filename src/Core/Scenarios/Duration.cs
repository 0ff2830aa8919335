using System.Globalization;
using System.Text;

namespace Scheduler.Core.Scenarios;

/// <summary>
/// Scenario durations: <c>90s</c>, <c>15m</c>, <c>2h</c>, <c>14d</c>, <c>500ms</c>, combinations in
/// decreasing unit order such as <c>1h30m</c> or <c>2d4h</c>, and plain numbers meaning seconds.
/// A component may have a fraction (<c>1.5h</c>). A leading <c>-</c> gives a negative duration;
/// whether that is allowed is up to the caller (scenarios reject them).
/// </summary>
public static class Duration
{
    private static readonly (string Unit, long Ticks)[] Units =
    [
        ("d", TimeSpan.TicksPerDay),
        ("h", TimeSpan.TicksPerHour),
        ("m", TimeSpan.TicksPerMinute),
        ("s", TimeSpan.TicksPerSecond),
        ("ms", TimeSpan.TicksPerMillisecond),
    ];

    // Larger than any TimeSpan in any unit; keeps decimal arithmetic far from overflow.
    private const decimal MaxComponent = 1e16m;

    public static bool TryParse(string? text, out TimeSpan value) => TryParse(text, out value, out _);

    /// <summary>Parses like <see cref="TryParse(string?, out TimeSpan)"/>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? text, out TimeSpan value, out string error)
    {
        value = TimeSpan.Zero;
        error = "";
        var s = text?.Trim() ?? "";
        if (s.Length == 0)
        {
            error = "empty duration";
            return false;
        }
        var negative = false;
        if (s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        decimal total = 0;
        var pos = 0;
        var lastRank = -1;
        while (pos < s.Length)
        {
            var start = pos;
            while (pos < s.Length && char.IsAsciiDigit(s[pos]))
            {
                pos++;
            }
            if (pos == start)
            {
                return Fail(text, out error);
            }
            if (pos < s.Length && s[pos] == '.')
            {
                pos++;
                var fractionStart = pos;
                while (pos < s.Length && char.IsAsciiDigit(s[pos]))
                {
                    pos++;
                }
                if (pos == fractionStart)
                {
                    return Fail(text, out error);
                }
            }
            if (pos == start || !decimal.TryParse(s.AsSpan(start, pos - start), NumberStyles.AllowDecimalPoint,
                    CultureInfo.InvariantCulture, out var number) || number > MaxComponent)
            {
                return Fail(text, out error);
            }
            var unitStart = pos;
            while (pos < s.Length && char.IsAsciiLetter(s[pos]))
            {
                pos++;
            }
            var unit = s[unitStart..pos];
            if (unit.Length == 0)
            {
                // A plain number is seconds, but only on its own.
                if (start != 0 || pos != s.Length)
                {
                    return Fail(text, out error);
                }
                total = number * TimeSpan.TicksPerSecond;
                break;
            }
            var rank = Array.FindIndex(Units, u => u.Unit == unit);
            if (rank < 0)
            {
                error = $"unknown unit '{unit}' in duration '{text}' (use d, h, m, s or ms)";
                return false;
            }
            if (rank <= lastRank)
            {
                error = $"duration '{text}' must give each unit once, largest first (like 1h30m)";
                return false;
            }
            lastRank = rank;
            total += number * Units[rank].Ticks;
        }

        total = decimal.Round(total, MidpointRounding.AwayFromZero);
        var limit = negative ? -(decimal)long.MinValue : long.MaxValue;
        if (total > limit)
        {
            error = $"duration '{text}' is too long";
            return false;
        }
        value = new TimeSpan((long)(negative ? -total : total));
        return true;
    }

    private static bool Fail(string? text, out string error)
    {
        error = $"'{text}' is not a duration (expected e.g. 90s, 15m, 2h, 14d, 500ms, 1h30m or a number of seconds)";
        return false;
    }

    /// <summary>The shortest form <see cref="TryParse(string?, out TimeSpan)"/> reads back exactly, e.g. <c>1h30m</c>, <c>0s</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }
        var sb = new StringBuilder();
        ulong ticks;
        if (value.Ticks < 0)
        {
            sb.Append('-');
            ticks = (ulong)(-(value.Ticks + 1)) + 1;
        }
        else
        {
            ticks = (ulong)value.Ticks;
        }
        foreach (var (unit, unitTicks) in Units)
        {
            var count = ticks / (ulong)unitTicks;
            ticks %= (ulong)unitTicks;
            if (unit == "ms" && ticks != 0)
            {
                var ms = count + ticks / (decimal)TimeSpan.TicksPerMillisecond;
                sb.Append(ms.ToString("0.#######", CultureInfo.InvariantCulture)).Append(unit);
            }
            else if (count != 0)
            {
                sb.Append(count.ToString(CultureInfo.InvariantCulture)).Append(unit);
            }
        }
        return sb.ToString();
    }
}
