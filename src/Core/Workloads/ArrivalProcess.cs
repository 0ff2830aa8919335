using Scheduler.Core.Randomness;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Workloads;

public enum ArrivalKind { Poisson, Bursts, Diurnal }

/// <summary>
/// A stream of RunTask calls into one cluster (workload generators).
/// <list type="bullet">
/// <item><c>poisson</c>: calls at exponential gaps, <see cref="RatePerHour"/> on average.</item>
/// <item><c>diurnal</c>: a Poisson process whose rate follows the simulated calendar's time of day,
/// <c>RatePerHour * (1 + Amplitude * cos(2π (hour - PeakHour) / 24))</c>.</item>
/// <item><c>bursts</c>: every <see cref="Every"/> (plus a uniform jitter), <see cref="BurstSize"/> tasks at once,
/// split into calls of at most 10 tasks (the RunTask limit).</item>
/// </list>
/// </summary>
public sealed record ArrivalSpec
{
    public required string TaskDefinition { get; init; }
    public required string CapacityProvider { get; init; }
    public required ArrivalKind Process { get; init; }
    /// <summary>Tasks per call (1..10) for poisson and diurnal arrivals.</summary>
    public IntDistribution Count { get; init; } = IntDistribution.Fixed(1);
    public double RatePerHour { get; init; }
    public double PeakHour { get; init; } = 14;
    public double Amplitude { get; init; } = 0.5;
    public TimeSpan Every { get; init; } = TimeSpan.FromHours(1);
    public int BurstSize { get; init; } = 10;
    public TimeSpan Jitter { get; init; }
    public DurationDistribution? RunTime { get; init; }
    public TimeSpan From { get; init; }
    /// <summary>End of the arrivals (exclusive); null = the end of the run.</summary>
    public TimeSpan? Until { get; init; }
}

/// <summary>One generated RunTask call.</summary>
public readonly record struct Arrival(long AtMs, int Count);

public static class ArrivalProcess
{
    /// <summary>
    /// The calls of <paramref name="spec"/> before <paramref name="endMs"/>, in time order. <paramref name="entity"/>
    /// keys the random stream (e.g. account/cluster/arrivals[0]), so each cluster draws its own sequence.
    /// </summary>
    /// <summary>
    /// At most how many calls bursts make before <paramref name="endMs"/> (bursts × calls of 10 per burst), computed
    /// without making them, so that a bound can refuse a burst every millisecond for a year before it is listed.
    /// </summary>
    public static long MaxBurstCalls(ArrivalSpec spec, long endMs)
    {
        var from = (long)spec.From.TotalMilliseconds;
        var until = spec.Until is { } end ? Math.Min(endMs, (long)end.TotalMilliseconds) : endMs;
        if (until <= from)
        {
            return 0;
        }
        var every = Math.Max(1, (long)spec.Every.TotalMilliseconds);
        var bursts = (until - from + every - 1) / every;
        var callsPerBurst = (spec.BurstSize + 9L) / 10;
        return bursts > long.MaxValue / callsPerBurst ? long.MaxValue : bursts * callsPerBurst;
    }

    public static IEnumerable<Arrival> Generate(ArrivalSpec spec, long seed, string entity, DateTimeOffset calendarStart, long endMs)
    {
        var from = (long)spec.From.TotalMilliseconds;
        var until = spec.Until is { } end ? Math.Min(endMs, (long)end.TotalMilliseconds) : endMs;
        if (until <= from)
        {
            yield break;
        }
        long draw = 0;
        switch (spec.Process)
        {
            case ArrivalKind.Bursts:
            {
                var every = (long)spec.Every.TotalMilliseconds;
                var jitter = (long)spec.Jitter.TotalMilliseconds;
                var bursts = new List<long>();
                for (var start = from; start < until; start += every)
                {
                    var at = jitter <= 0 ? start
                        : start + (long)(DeterministicRandom.NextDouble(seed, entity, "jitter", draw++) * jitter);
                    if (at < until)
                    {
                        bursts.Add(at);
                    }
                }
                // A jitter longer than the period can reorder bursts; calls go out in time order.
                bursts.Sort();
                foreach (var at in bursts)
                {
                    for (var left = spec.BurstSize; left > 0; left -= 10)
                    {
                        yield return new Arrival(at, Math.Min(10, left));
                    }
                }
                break;
            }
            default:
            {
                if (spec.RatePerHour <= 0)
                {
                    yield break;
                }
                var peakFactor = spec.Process == ArrivalKind.Diurnal ? 1 + Math.Abs(spec.Amplitude) : 1;
                var maxRatePerMs = spec.RatePerHour * peakFactor / 3_600_000.0;
                var t = (double)from;
                var counter = 0L;
                while (true)
                {
                    // Exponential gaps at the peak rate; diurnal thins them to the rate of the time of day.
                    var u = 1.0 - DeterministicRandom.NextDouble(seed, entity, "gap", draw++);
                    t += -Math.Log(u) / maxRatePerMs;
                    if (t >= until)
                    {
                        yield break;
                    }
                    var at = (long)t;
                    if (spec.Process == ArrivalKind.Diurnal)
                    {
                        var hour = calendarStart.AddMilliseconds(at).TimeOfDay.TotalHours;
                        var rate = 1 + spec.Amplitude * Math.Cos(2 * Math.PI * (hour - spec.PeakHour) / 24);
                        if (DeterministicRandom.NextDouble(seed, entity, "thin", draw++) * peakFactor >= rate)
                        {
                            continue;
                        }
                    }
                    yield return new Arrival(at, spec.Count.Sample(seed, entity, "count", counter++));
                }
            }
        }
    }
}
