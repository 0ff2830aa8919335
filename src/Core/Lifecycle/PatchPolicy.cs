using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Lifecycle;

/// <summary>The patch cycle's ages: replace in the window from day 14, anywhere from day 21, never past day 30.</summary>
public sealed record PatchCycle(TimeSpan WindowFrom, TimeSpan AnyTimeFrom, TimeSpan HardLimit)
{
    public static PatchCycle Default { get; } = new(TimeSpan.FromDays(14), TimeSpan.FromDays(21), TimeSpan.FromDays(30));
}

/// <summary>Why a host drains or terminates; the <c>reason</c> values of instance events.</summary>
public static class DrainReasons
{
    public const string PatchDay14 = "patch-day14";
    public const string PatchDay21 = "patch-day21";
    public const string MaxLifetime = "max-lifetime";
    public const string MaintenanceEvent = "maintenance-event";
    public const string Manual = "manual";
    public const string Consolidation = "consolidation";
    public const string SpotInterruption = "spot-interruption";
    public const string ZoneFailure = "zone-failure";
    public const string AgentDisconnect = "agent-disconnect";
}

/// <summary>What the patch cycle wants of a host at a given time.</summary>
public abstract record PatchDecision
{
    /// <summary>Nothing to do now; look again at <see cref="NextCheckMs"/>.</summary>
    public sealed record KeepRunning(long NextCheckMs) : PatchDecision;

    /// <summary>Start draining now for <see cref="Reason"/> (patch-day14 inside a window, patch-day21 anywhere).</summary>
    public sealed record Drain(string Reason) : PatchDecision;

    /// <summary>The hard limit is reached: stop what is left and terminate.</summary>
    public sealed record Terminate : PatchDecision;
}

/// <summary>
/// The patch-cycle policy as a pure function of a host's launch time and the time now. Times are
/// simulated milliseconds since the run's start; the calendar start places the weekly maintenance window.
/// </summary>
public static class PatchPolicy
{
    private const long Week = 7 * 86_400_000L;

    public static PatchDecision Decide(long launchedMs, long nowMs, bool draining, PatchCycle cycle, MaintenanceWindow? window, DateTimeOffset calendarStart)
    {
        var age = nowMs - launchedMs;
        var windowFrom = launchedMs + (long)cycle.WindowFrom.TotalMilliseconds;
        var anyTime = launchedMs + (long)cycle.AnyTimeFrom.TotalMilliseconds;
        var hard = launchedMs + (long)cycle.HardLimit.TotalMilliseconds;
        if (nowMs >= hard)
        {
            return new PatchDecision.Terminate();
        }
        if (draining)
        {
            // A draining host only waits for its hard limit.
            return new PatchDecision.KeepRunning(hard);
        }
        if (nowMs >= anyTime)
        {
            return new PatchDecision.Drain(DrainReasons.PatchDay21);
        }
        if (age >= (long)cycle.WindowFrom.TotalMilliseconds)
        {
            if (window is null || InWindow(nowMs, window, calendarStart))
            {
                return new PatchDecision.Drain(DrainReasons.PatchDay14);
            }
            return new PatchDecision.KeepRunning(Math.Min(anyTime, NextWindowStart(nowMs, window, calendarStart)));
        }
        // Before day 14: the next look is the first window at or after day 14 (or day 21 if that is sooner).
        var next = window is null ? windowFrom : Math.Min(anyTime, NextWindowStart(windowFrom, window, calendarStart));
        if (window is not null && InWindow(windowFrom, window, calendarStart))
        {
            next = windowFrom;
        }
        return new PatchDecision.KeepRunning(next);
    }

    /// <summary>
    /// How long an in-window replacement wish made at <paramref name="nowMs"/> stays valid: until the window
    /// closes, or until day 21 turns it into an any-time replacement (without a window: day 21).
    /// </summary>
    public static long WindowEnd(long nowMs, long launchedMs, PatchCycle cycle, MaintenanceWindow? window, DateTimeOffset calendarStart)
    {
        var anyTime = launchedMs + (long)cycle.AnyTimeFrom.TotalMilliseconds;
        if (window is null)
        {
            return anyTime;
        }
        var end = LastWindowStart(nowMs, window, calendarStart) + (long)window.Length.TotalMilliseconds;
        return Math.Min(anyTime, Math.Max(end, nowMs + 1));
    }

    /// <summary>Is <paramref name="nowMs"/> inside a weekly window?</summary>
    public static bool InWindow(long nowMs, MaintenanceWindow window, DateTimeOffset calendarStart)
    {
        var start = LastWindowStart(nowMs, window, calendarStart);
        return nowMs >= start && nowMs < start + (long)window.Length.TotalMilliseconds;
    }

    /// <summary>The first window start strictly after <paramref name="afterMs"/>... or at it.</summary>
    public static long NextWindowStart(long afterMs, MaintenanceWindow window, DateTimeOffset calendarStart)
    {
        var last = LastWindowStart(afterMs, window, calendarStart);
        return last >= afterMs ? last : last + Week;
    }

    /// <summary>The latest window start at or before <paramref name="nowMs"/> (may be before the run's start).</summary>
    public static long LastWindowStart(long nowMs, MaintenanceWindow window, DateTimeOffset calendarStart)
    {
        // Offset of the run's start within its week, counted from Sunday 00:00 UTC.
        var startOfWeek = (long)calendarStart.UtcDateTime.DayOfWeek * 86_400_000L + (long)calendarStart.UtcDateTime.TimeOfDay.TotalMilliseconds;
        var windowOfWeek = (long)window.Day * 86_400_000L + (long)window.StartOfDay.TotalMilliseconds;
        // Simulated ms of the first window start at or after the run's start, shifted back a week.
        var first = (windowOfWeek - startOfWeek + Week) % Week - Week;
        var weeks = (nowMs - first) / Week;
        return first + weeks * Week;
    }
}
