using Scheduler.Core.Scenarios;

namespace Scheduler.Core.RateLimits;

/// <summary>
/// A token bucket as an immutable value: capacity = burst, refilled continuously at the
/// sustained rate, like System.Threading.RateLimiting's token bucket with continuous replenishment
/// (<c>TokenBucketRateLimiterOptions.AutoReplenishment</c> with a tiny period). Starts full. Every
/// transition takes the simulated time, so the same calls at the same times always grant the same.
/// </summary>
public readonly record struct TokenBucket(double Tokens, long AtMs)
{
    // A tiny epsilon keeps 19.999999 from refusing the 20th token after a refill of exactly one second.
    private const double Epsilon = 1e-9;

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

    /// <summary>Whole tokens a caller could take now, without taking them.</summary>
    public int Available(long nowMs, BucketLimit limit) =>
        (int)Math.Max(0, Math.Min(int.MaxValue, Math.Floor(RefilledTo(nowMs, limit).Tokens + Epsilon)));

    /// <summary>Grants as many whole tokens as are available, up to <paramref name="requested"/>.</summary>
    public (TokenBucket Bucket, int Granted) Take(long nowMs, int requested, BucketLimit limit)
    {
        var b = RefilledTo(nowMs, limit);
        var granted = (int)Math.Max(0, Math.Min(requested, Math.Floor(b.Tokens + Epsilon)));
        return (b with { Tokens = Math.Max(0, b.Tokens - granted) }, granted);
    }

    /// <summary>
    /// Queues for one token instead of failing (a queueing limiter, oldest first): returns the time at which
    /// the token is this caller's. The bucket may go into debt; later callers wait behind earlier ones.
    /// Models capacity that runs short (Fargate Spot availability) rather than an API that throttles.
    /// </summary>
    public (TokenBucket Bucket, long ReadyAtMs) Reserve(long nowMs, BucketLimit limit)
    {
        var b = RefilledTo(nowMs, limit);
        var left = b.Tokens - 1;
        if (left >= -Epsilon)
        {
            return (b with { Tokens = Math.Max(0, left) }, nowMs);
        }
        var waitMs = (long)Math.Ceiling(-left / limit.PerSecond * 1000 - Epsilon);
        return (b with { Tokens = left }, nowMs + waitMs);
    }
}

public static class BucketNames
{
    /// <summary>Fargate On-Demand task launches, per account (all clusters, services and RunTask share it).</summary>
    public const string FargateOnDemand = "fargateOnDemand";
    /// <summary>Fargate Spot task launches, per account, separate from On-Demand.</summary>
    public const string FargateSpot = "fargateSpot";
    /// <summary>RunTask API calls, per account; at most <see cref="RunTaskMaxCount"/> tasks per call.</summary>
    public const string RunTask = "runTask";
    /// <summary>A service's deployment rate on Fargate (per service; the limit is per account adjustable).</summary>
    public const string ServiceDeploymentFargate = "serviceDeploymentFargate";
    /// <summary>A service's deployment rate on EC2, Managed Instances and External capacity.</summary>
    public const string ServiceDeploymentEc2 = "serviceDeploymentEc2";
    /// <summary>AWS Batch SubmitJob API calls, per account (an array job of up to 10,000 children is one call).</summary>
    public const string SubmitJob = "submitJob";

    /// <summary>The account's other ECS API calls through the live API (Describe*, List*, Create*, ...), counted together.</summary>
    public const string Api = "api";

    /// <summary>The buckets a scenario may override per account.</summary>
    public static readonly IReadOnlyList<string> All = [FargateOnDemand, FargateSpot, RunTask, ServiceDeploymentFargate, ServiceDeploymentEc2, SubmitJob, Api];

    public const int RunTaskMaxCount = 10;

    /// <summary>
    /// The defaults from the seeds. Deployment: 500 tasks per minute on Fargate, 250 on EC2 and Managed Instances, as
    /// a rate: a service moves towards desired in workflow cycles, each launching the batch the rate allows, so the
    /// bucket holds no more than about one cycle's batch (no minute's worth of tokens up front: 1,000 Fargate tasks
    /// take about two minutes to schedule, not one).
    /// </summary>
    public static BucketLimit DefaultLimit(string bucket) => bucket switch
    {
        FargateOnDemand or FargateSpot => new BucketLimit(100, 20),
        RunTask => new BucketLimit(100, 40),
        Api => new BucketLimit(100, 50),
        ServiceDeploymentFargate => new BucketLimit(10, 500 / 60.0),
        ServiceDeploymentEc2 => new BucketLimit(5, 250 / 60.0),
        SubmitJob => new BucketLimit(50, 50),
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "unknown bucket"),
    };

    /// <summary>
    /// A service's deployment bucket when workflow cycles are <paramref name="tickMs"/> apart: the burst holds at least
    /// one cycle's refill plus the fraction carried over, so a longer tick does not cut the rate.
    /// </summary>
    public static BucketLimit DeploymentLimit(BucketLimit limit, long tickMs) =>
        limit with { Burst = Math.Max(limit.Burst, Math.Ceiling(limit.PerSecond * tickMs / 1000.0) + 1) };

    /// <summary>The account's limit for a bucket: its override, or the default.</summary>
    public static BucketLimit Limit(IReadOnlyDictionary<string, BucketLimit> overrides, string bucket) =>
        overrides.TryGetValue(bucket, out var l) ? l : DefaultLimit(bucket);

    /// <summary>The account-wide launch bucket a capacity type draws on; null = unlimited (EC2, Managed Instances, External).</summary>
    public static string? LaunchBucket(CapacityType type) => type switch
    {
        CapacityType.Fargate => FargateOnDemand,
        CapacityType.FargateSpot => FargateSpot,
        _ => null,
    };

    public static string DeploymentBucket(CapacityType type) =>
        type is CapacityType.Fargate or CapacityType.FargateSpot ? ServiceDeploymentFargate : ServiceDeploymentEc2;
}
