using CsCheck;
using Scheduler.Core.Scenarios;
using Scheduler.Core.Workloads;

namespace Scheduler.Core.Tests.Workloads;

public sealed class DistributionAndArrivalTests
{
    private static readonly DateTimeOffset Monday = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    private static readonly Gen<IntDistribution> AnyDistribution =
        from kind in Gen.Enum<IntDistributionKind>()
        from a in Gen.Int[0, 500]
        from b in Gen.Int[0, 500]
        from spread in Gen.Double[0, 3]
        select kind switch
        {
            IntDistributionKind.Fixed => IntDistribution.Fixed(a),
            IntDistributionKind.Uniform => IntDistribution.Uniform(Math.Min(a, b), Math.Max(a, b)),
            IntDistributionKind.Normal => new IntDistribution(kind, a, spread * 50, Math.Min(a, b), Math.Max(a, b)),
            _ => new IntDistribution(kind, Math.Max(1, a), spread, Math.Min(a, b), Math.Max(a, b)),
        };

    [Fact]
    public void Every_draw_lies_within_min_and_max_and_repeats_for_the_same_key()
    {
        Gen.Select(AnyDistribution, Gen.Long, Gen.Int[0, 10_000]).Sample((d, seed, counter) =>
        {
            var x = d.Sample(seed, "acct/c1", "desired", counter);
            Assert.InRange(x, d.Min, d.Max);
            Assert.Equal(x, d.Sample(seed, "acct/c1", "desired", counter));
        }, iter: 2_000);
    }

    [Fact]
    public void Uniform_draws_reach_both_ends_and_other_entities_draw_differently()
    {
        var d = IntDistribution.Uniform(1, 4);
        var seen = Enumerable.Range(0, 200).Select(i => d.Sample(7, "a", "s", i)).ToHashSet();
        Assert.Equal([1, 2, 3, 4], seen.Order());
        var mine = Enumerable.Range(0, 50).Select(i => d.Sample(7, "a", "s", i)).ToArray();
        var theirs = Enumerable.Range(0, 50).Select(i => d.Sample(7, "b", "s", i)).ToArray();
        Assert.NotEqual(mine, theirs);
    }

    private static readonly Gen<ArrivalSpec> AnyArrivals =
        from kind in Gen.Enum<ArrivalKind>()
        from rate in Gen.Double[0.5, 400]
        from everyMin in Gen.Int[1, 600]
        from size in Gen.Int[1, 95]
        from jitterMin in Gen.Int[0, 30]
        from fromH in Gen.Int[0, 20]
        from lengthH in Gen.Int[1, 48]
        from countMax in Gen.Int[1, 10]
        select new ArrivalSpec
        {
            TaskDefinition = "job", CapacityProvider = "fargate", Process = kind, RatePerHour = rate,
            Every = TimeSpan.FromMinutes(everyMin), BurstSize = size, Jitter = TimeSpan.FromMinutes(jitterMin),
            Count = IntDistribution.Uniform(1, countMax), Amplitude = 0.9,
            From = TimeSpan.FromHours(fromH), Until = TimeSpan.FromHours(fromH + lengthH),
        };

    [Fact]
    public void Arrivals_are_in_order_inside_their_window_with_1_to_10_tasks_per_call_and_repeatable()
    {
        Gen.Select(AnyArrivals, Gen.Long).Sample((spec, seed) =>
        {
            var end = (long)TimeSpan.FromDays(3).TotalMilliseconds;
            var calls = ArrivalProcess.Generate(spec, seed, "t/c", Monday, end).ToList();
            var from = (long)spec.From.TotalMilliseconds;
            var until = (long)spec.Until!.Value.TotalMilliseconds;
            for (var i = 0; i < calls.Count; i++)
            {
                Assert.InRange(calls[i].AtMs, from, until - 1);
                Assert.InRange(calls[i].Count, 1, 10);
                if (i > 0)
                {
                    Assert.True(calls[i - 1].AtMs <= calls[i].AtMs);
                }
            }
            Assert.Equal(calls, ArrivalProcess.Generate(spec, seed, "t/c", Monday, end).ToList());
        }, iter: 300);
    }

    [Fact]
    public void A_burst_without_jitter_sends_its_size_in_calls_of_at_most_ten_at_each_period()
    {
        var spec = new ArrivalSpec
        {
            TaskDefinition = "job", CapacityProvider = "ec2", Process = ArrivalKind.Bursts, Every = TimeSpan.FromHours(6), BurstSize = 25,
        };
        var calls = ArrivalProcess.Generate(spec, 1, "t/c", Monday, (long)TimeSpan.FromDays(1).TotalMilliseconds).ToList();
        Assert.Equal(12, calls.Count);
        Assert.Equal([0L, 21_600_000L, 43_200_000L, 64_800_000L], calls.Select(c => c.AtMs).Distinct());
        Assert.Equal([10, 10, 5], calls.Take(3).Select(c => c.Count));
    }

    [Fact]
    public void A_poisson_stream_keeps_its_mean_rate_and_a_diurnal_one_peaks_at_its_hour()
    {
        var days = 20;
        var end = (long)TimeSpan.FromDays(days).TotalMilliseconds;
        var poisson = new ArrivalSpec { TaskDefinition = "j", CapacityProvider = "f", Process = ArrivalKind.Poisson, RatePerHour = 30 };
        var n = ArrivalProcess.Generate(poisson, 3, "t/c", Monday, end).Count();
        Assert.InRange(n, 30 * 24 * days * 0.95, 30 * 24 * days * 1.05);

        var diurnal = poisson with { Process = ArrivalKind.Diurnal, PeakHour = 14, Amplitude = 0.9 };
        var hours = ArrivalProcess.Generate(diurnal, 3, "t/c", Monday, end).Select(a => Monday.AddMilliseconds(a.AtMs).Hour).ToList();
        var nearPeak = hours.Count(h => h is >= 12 and < 16);
        var nearTrough = hours.Count(h => h is 0 or 1 or 2 or 3);
        Assert.True(nearPeak > 5 * nearTrough, $"peak {nearPeak}, trough {nearTrough}");
        Assert.InRange(hours.Count, 30 * 24 * days * 0.9, 30 * 24 * days * 1.1);
    }
}
