using Scheduler.Core.Scenarios;

namespace Scheduler.Core.RateLimits;

/// <summary>
/// One of an account's token buckets as its callers see it: it starts full on first use, and grants, reports or
/// queues tokens. The bucket grain persists it; a test can hold many in memory.
/// </summary>
public sealed class BucketAgent
{
    public TokenBucket? Bucket { get; set; }

    /// <summary>Takes up to <paramref name="requested"/> tokens; returns how many were granted.</summary>
    public int TryAcquire(long nowMs, int requested, BucketLimit limit)
    {
        var (next, granted) = (Bucket ?? TokenBucket.Full(limit, nowMs)).Take(nowMs, requested, limit);
        Bucket = next;
        return granted;
    }

    /// <summary>Whole tokens available now, without taking any.</summary>
    public int Available(long nowMs, BucketLimit limit) => (Bucket ?? TokenBucket.Full(limit, nowMs)).Available(nowMs, limit);

    /// <summary>Queues <paramref name="count"/> callers for a token each; returns when each token is theirs.</summary>
    public IReadOnlyList<long> Reserve(long nowMs, int count, BucketLimit limit)
    {
        var bucket = Bucket ?? TokenBucket.Full(limit, nowMs);
        var ready = new long[count];
        for (var i = 0; i < count; i++)
        {
            (bucket, ready[i]) = bucket.Reserve(nowMs, limit);
        }
        Bucket = bucket;
        return ready;
    }
}
