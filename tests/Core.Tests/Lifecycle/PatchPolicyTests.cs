using CsCheck;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Lifecycle;

public sealed class PatchPolicyTests
{
    private const long Day = 86_400_000L;
    private static readonly DateTimeOffset Monday = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    private static readonly Gen<MaintenanceWindow> GenWindow =
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 23], Gen.Int[0, 59], Gen.Int[1, 24 * 60],
            (d, h, m, len) => new MaintenanceWindow((DayOfWeek)d, new TimeSpan(h, m, 0), TimeSpan.FromMinutes(len)));

    private static readonly Gen<DateTimeOffset> GenStart =
        Gen.Long[0, 366 * Day].Select(ms => Monday.AddMilliseconds(ms));

    [Fact]
    public void The_first_sunday_window_of_a_monday_start_opens_on_day_6_at_0200()
    {
        var window = new MaintenanceWindow(DayOfWeek.Sunday, TimeSpan.FromHours(2), TimeSpan.FromHours(4));
        Assert.Equal(6 * Day + 2 * 3_600_000, PatchPolicy.NextWindowStart(0, window, Monday));
        Assert.True(PatchPolicy.InWindow(6 * Day + 2 * 3_600_000, window, Monday));
        Assert.True(PatchPolicy.InWindow(6 * Day + 6 * 3_600_000 - 1, window, Monday));
        Assert.False(PatchPolicy.InWindow(6 * Day + 6 * 3_600_000, window, Monday));
        Assert.False(PatchPolicy.InWindow(6 * Day + 2 * 3_600_000 - 1, window, Monday));
    }

    [Fact]
    public void Next_window_start_is_the_first_window_start_at_or_after_the_time()
    {
        Gen.Select(GenWindow, GenStart, Gen.Long[0, 60 * Day]).Sample((window, start, t) =>
        {
            var next = PatchPolicy.NextWindowStart(t, window, start);
            Assert.InRange(next, t, t + 7 * Day - 1);
            Assert.True(PatchPolicy.InWindow(next, window, start));
            // No window starts strictly between t and next.
            Assert.True(next == t || PatchPolicy.LastWindowStart(next - 1, window, start) < t);
            // The window start is on the window's weekday and time, in the calendar.
            var at = start.AddMilliseconds(next).UtcDateTime;
            Assert.Equal(window.Day, at.DayOfWeek);
            Assert.Equal(window.StartOfDay, at.TimeOfDay);
        }, iter: 2000);
    }

    /// <summary>Follows a host through its checks the way the instance grain does, until it is told to drain or terminate.</summary>
    private static (long At, PatchDecision Decision) FirstAction(long launched, PatchCycle cycle, MaintenanceWindow? window, DateTimeOffset start)
    {
        var now = launched;
        for (var i = 0; i < 100; i++)
        {
            var d = PatchPolicy.Decide(launched, now, draining: false, cycle, window, start);
            if (d is not PatchDecision.KeepRunning k)
            {
                return (now, d);
            }
            Assert.True(k.NextCheckMs > now, "the next check is later than now");
            now = k.NextCheckMs;
        }
        throw new InvalidOperationException("no decision after 100 checks");
    }

    private static readonly Gen<PatchCycle> GenCycle =
        Gen.Select(Gen.Int[1, 20], Gen.Int[0, 15], Gen.Int[0, 15], (a, b, c) =>
            new PatchCycle(TimeSpan.FromDays(a), TimeSpan.FromDays(a + b), TimeSpan.FromDays(a + b + c + 1)));

    [Fact]
    public void Every_host_drains_in_its_window_after_the_first_age_or_anywhere_after_the_second_and_before_the_hard_limit()
    {
        Gen.Select(GenCycle, GenWindow.Null(), GenStart, Gen.Long[0, 30 * Day]).Sample((cycle, window, start, launched) =>
        {
            var (at, decision) = FirstAction(launched, cycle, window, start);
            var age = at - launched;
            var drain = Assert.IsType<PatchDecision.Drain>(decision);
            Assert.True(age < (long)cycle.HardLimit.TotalMilliseconds, "drains before the hard limit");
            if (drain.Reason == DrainReasons.PatchDay14)
            {
                Assert.InRange(age, (long)cycle.WindowFrom.TotalMilliseconds, (long)cycle.AnyTimeFrom.TotalMilliseconds - 1);
                Assert.True(window is null || PatchPolicy.InWindow(at, window, start), "a day-14 replacement starts inside the window");
            }
            else
            {
                Assert.Equal(DrainReasons.PatchDay21, drain.Reason);
                Assert.Equal((long)cycle.AnyTimeFrom.TotalMilliseconds, age);
                // Day 21 only comes when no window opened between the two ages.
                var from = launched + (long)cycle.WindowFrom.TotalMilliseconds;
                if (window is null)
                {
                    Assert.Equal(cycle.WindowFrom, cycle.AnyTimeFrom);
                }
                else
                {
                    Assert.False(PatchPolicy.InWindow(from, window, start) && from < at);
                    Assert.True(PatchPolicy.NextWindowStart(from, window, start) >= at);
                }
            }
        }, iter: 3000);
    }

    [Fact]
    public void A_draining_host_waits_only_for_its_hard_limit_and_then_terminates()
    {
        Gen.Select(GenCycle, GenWindow.Null(), GenStart, Gen.Long[0, 40 * Day]).Sample((cycle, window, start, now) =>
        {
            var hard = (long)cycle.HardLimit.TotalMilliseconds;
            var d = PatchPolicy.Decide(0, now, draining: true, cycle, window, start);
            if (now >= hard)
            {
                Assert.IsType<PatchDecision.Terminate>(d);
            }
            else
            {
                Assert.Equal(hard, Assert.IsType<PatchDecision.KeepRunning>(d).NextCheckMs);
            }
        }, iter: 1000);
    }

    [Fact]
    public void A_replacement_wish_lasts_until_the_window_closes_or_day_21()
    {
        Gen.Select(GenCycle, GenWindow, GenStart, Gen.Long[0, 30 * Day]).Sample((cycle, window, start, launched) =>
        {
            var (at, decision) = FirstAction(launched, cycle, window, start);
            if (decision is not PatchDecision.Drain { Reason: DrainReasons.PatchDay14 })
            {
                return;
            }
            var end = PatchPolicy.WindowEnd(at, launched, cycle, window, start);
            Assert.True(end > at);
            Assert.True(end <= launched + (long)cycle.AnyTimeFrom.TotalMilliseconds);
            Assert.True(PatchPolicy.InWindow(end - 1, window, start));
        }, iter: 2000);
    }
}
