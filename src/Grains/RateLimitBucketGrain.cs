using Scheduler.Abstractions;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Grains;

public sealed class BucketState
{
    public TokenBucket? Bucket { get; set; }
}

/// <summary>A token bucket grain (pure <see cref="TokenBucket"/>). Callers within one tick come in a fixed order (the account sequences its clusters).</summary>
public sealed class RateLimitBucketGrain(
    [PersistentState("bucket", "sim")] IPersistentState<BucketState> state) : Grain, IRateLimitBucketGrain
{
    public Task<int> TryAcquire(long nowMs, int requested, BucketLimit limit)
    {
        var bucket = state.State.Bucket ?? TokenBucket.Full(limit, nowMs);
        var (next, granted) = bucket.Take(nowMs, requested, limit);
        state.State.Bucket = next;
        return Task.FromResult(granted);
    }
}
