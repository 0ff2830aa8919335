using CsCheck;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Launch;

/// <summary>No bucket grants more than its burst plus refill.</summary>
public sealed class TokenBucketTests
{
    private static readonly Gen<BucketLimit> Limits =
        Gen.Select(Gen.Int[1, 500], Gen.Double[0.5, 100]).Select((burst, rate) => new BucketLimit(burst, rate));

    /// <summary>Random demand at random (ordered) times: granted tokens in [0, t] never exceed burst + rate × t, nor the demand.</summary>
    [Fact]
    public void Grants_never_exceed_burst_plus_refill_over_any_prefix()
    {
        Gen.Select(Limits, Gen.Select(Gen.Int[0, 3_000], Gen.Int[0, 200]).Array[1, 200]).Sample((limit, steps) =>
        {
            var bucket = TokenBucket.Full(limit, 0);
            long now = 0, granted = 0;
            foreach (var (advance, requested) in steps)
            {
                now += advance;
                var (next, g) = bucket.Take(now, requested, limit);
                Assert.InRange(g, 0, requested);
                granted += g;
                bucket = next;
                Assert.True(granted <= limit.Burst + limit.PerSecond * now / 1000.0 + 1e-6,
                    $"granted {granted} by {now} ms with {limit}");
            }
        }, iter: 2_000);
    }

    /// <summary>A caller that asks for everything every tick gets the burst, then the sustained rate.</summary>
    [Fact]
    public void Greedy_demand_gets_the_burst_then_the_rate()
    {
        var limit = new BucketLimit(100, 20);
        var bucket = TokenBucket.Full(limit, 0);
        var perSecond = new List<int>();
        for (var t = 0; t <= 10; t++)
        {
            var (next, g) = bucket.Take(t * 1000, 1_000, limit);
            bucket = next;
            perSecond.Add(g);
        }
        Assert.Equal([100, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20], perSecond);
    }

    [Fact]
    public void Refill_is_continuous_and_capped_at_the_burst()
    {
        var limit = new BucketLimit(10, 4);
        var (b, g) = TokenBucket.Full(limit, 0).Take(0, 10, limit);
        Assert.Equal(10, g);
        Assert.Equal(2, b.Available(500, limit));        // 0.5 s × 4/s
        Assert.Equal(10, b.Available(60_000, limit));    // never above the burst
        Assert.Equal(b, b.RefilledTo(-5, limit));        // time never runs backwards
    }

    /// <summary>Reserve queues callers: ready times never decrease, and the k-th token is never ready before (k - burst) / rate.</summary>
    [Fact]
    public void Reservations_queue_in_order_within_the_refill()
    {
        Gen.Select(Limits, Gen.Int[0, 2_000].Array[1, 300]).Sample((limit, advances) =>
        {
            var bucket = TokenBucket.Full(limit, 0);
            long now = 0, lastReady = 0;
            var k = 0;
            foreach (var advance in advances)
            {
                now += advance;
                (bucket, var ready) = bucket.Reserve(now, limit);
                k++;
                Assert.True(ready >= now);
                Assert.True(ready >= lastReady, "a later caller never overtakes an earlier one");
                Assert.True(k <= limit.Burst + limit.PerSecond * ready / 1000.0 + 1e-6, $"token {k} ready at {ready} ms with {limit}");
                lastReady = ready;
            }
        }, iter: 1_000);
    }

    [Fact]
    public void Defaults_are_those_of_the_seed()
    {
        Assert.Equal(new BucketLimit(100, 20), BucketNames.DefaultLimit(BucketNames.FargateOnDemand));
        Assert.Equal(new BucketLimit(100, 20), BucketNames.DefaultLimit(BucketNames.FargateSpot));
        Assert.Equal(new BucketLimit(100, 40), BucketNames.DefaultLimit(BucketNames.RunTask));
        Assert.Equal(500, BucketNames.DefaultLimit(BucketNames.ServiceDeploymentFargate).PerSecond * 60, 6);
        Assert.Equal(250, BucketNames.DefaultLimit(BucketNames.ServiceDeploymentEc2).PerSecond * 60, 6);
        Assert.Null(BucketNames.LaunchBucket(CapacityType.Ec2));
        Assert.Null(BucketNames.LaunchBucket(CapacityType.ManagedInstances));
        Assert.Null(BucketNames.LaunchBucket(CapacityType.External));
        Assert.Equal(BucketNames.FargateSpot, BucketNames.LaunchBucket(CapacityType.FargateSpot));
        var overrides = new Dictionary<string, BucketLimit> { [BucketNames.FargateOnDemand] = new(500, 100) };
        Assert.Equal(new BucketLimit(500, 100), BucketNames.Limit(overrides, BucketNames.FargateOnDemand));
        Assert.Equal(new BucketLimit(100, 20), BucketNames.Limit(overrides, BucketNames.FargateSpot));
    }
}
