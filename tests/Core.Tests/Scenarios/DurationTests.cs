using CsCheck;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Scenarios;

public sealed class DurationTests
{
    [Theory]
    [InlineData("90s", 90_000)]
    [InlineData("15m", 900_000)]
    [InlineData("2h", 7_200_000)]
    [InlineData("14d", 1_209_600_000)]
    [InlineData("500ms", 500)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1d2h3m4s5ms", 93_784_005)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("45", 45_000)]
    [InlineData("0.25", 250)]
    [InlineData("0", 0)]
    [InlineData(" 10s ", 10_000)]
    [InlineData("-5m", -300_000)]
    public void Parses(string text, long milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("s")]
    [InlineData("10 10")]
    [InlineData("2x")]
    [InlineData("1h 30m")]
    [InlineData("30m1h")]
    [InlineData("1h1h")]
    [InlineData("1.h")]
    [InlineData(".5s")]
    [InlineData("10S")]
    [InlineData("--1s")]
    [InlineData("1e3s")]
    [InlineData("99999999999999999999d")]
    [InlineData("20000000d")]
    [InlineData("abc")]
    [InlineData("5 s")]
    public void Rejects_garbage(string? text)
    {
        Assert.False(Duration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.Zero, value);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(500, "500ms")]
    [InlineData(90_000, "1m30s")]
    [InlineData(5_400_000, "1h30m")]
    [InlineData(1_209_600_000, "14d")]
    [InlineData(93_784_005, "1d2h3m4s5ms")]
    [InlineData(-300_000, "-5m")]
    public void Formats(long milliseconds, string text) =>
        Assert.Equal(text, Duration.Format(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void Formats_sub_millisecond_ticks_as_a_fraction()
    {
        Assert.Equal("1.2345ms", Duration.Format(new TimeSpan(12_345)));
        Assert.True(Duration.TryParse("1.2345ms", out var back));
        Assert.Equal(12_345, back.Ticks);
    }

    [Fact]
    public void Whole_millisecond_durations_round_trip() =>
        Gen.Long[TimeSpan.MinValue.Ticks / TimeSpan.TicksPerMillisecond, TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerMillisecond]
            .Select(ms => new TimeSpan(ms * TimeSpan.TicksPerMillisecond))
            .Sample(t =>
            {
                var text = Duration.Format(t);
                Assert.True(Duration.TryParse(text, out var back), text);
                Assert.Equal(t, back);
            });

    [Fact]
    public void Extreme_durations_round_trip()
    {
        foreach (var t in new[] { TimeSpan.MaxValue, TimeSpan.MinValue, TimeSpan.FromTicks(1), TimeSpan.FromTicks(-1) })
        {
            Assert.True(Duration.TryParse(Duration.Format(t), out var back));
            Assert.Equal(t, back);
        }
    }
}
