using Scheduler.Core.Scenarios;

namespace Scheduler.Core.RateLimits;

/// <summary>
/// A token bucket as an immutable value (SPEC section 6): capacity = burst, refilled continuously at the
/// sustained rate, like System.Threading.RateLimiting's token bucket with continuous replenishment.
/// Starts full. Every transition takes the simulated time.
/// </summary>
public readonly record struct TokenBucket(double Tokens, long AtMs)
{
    public static TokenBucket Full(BucketLimit limit, long nowMs) => new(limit.Burst, nowMs);

    public TokenBucket RefilledTo(long nowMs, BucketLimit limit)
    {
        if (nowMs <= AtMs)
        {
            return this;
        }
        var tokens = Math.Min(limit.Burst, Tokens + (nowMs - AtMs) / 1000.0 * limit.PerSecond);
        return new TokenBucket(tokens, nowMs);
    }

    /// <summary>Grants as many whole tokens as are available, up to <paramref name="requested"/>.</summary>
    public (TokenBucket Bucket, int Granted) Take(long nowMs, int requested, BucketLimit limit)
    {
        var b = RefilledTo(nowMs, limit);
        // A tiny epsilon keeps 19.999999 from refusing the 20th token after a refill of exactly one second.
        var granted = (int)Math.Min(requested, Math.Floor(b.Tokens + 1e-9));
        return (b with { Tokens = Math.Max(0, b.Tokens - granted) }, granted);
    }
}

public static class BucketNames
{
    public const string FargateOnDemand = "fargateOnDemand";
    public const string FargateSpot = "fargateSpot";
    public const string RunTask = "runTask";

    /// <summary>The defaults of SPEC section 6.</summary>
    public static BucketLimit DefaultLimit(string bucket) => bucket switch
    {
        FargateOnDemand or FargateSpot => new BucketLimit(100, 20),
        RunTask => new BucketLimit(100, 40),
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "unknown bucket"),
    };
}
