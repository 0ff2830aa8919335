using Scheduler.Abstractions;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;
using Scheduler.Grains.Checkpoints;

namespace Scheduler.Grains;

public sealed class BucketState
{
    public TokenBucket? Bucket { get; set; }
}

/// <summary>
/// A token bucket grain (pure <see cref="TokenBucket"/>), one per (run, account, bucket). Callers within one
/// tick come in a fixed order: the account ticks its clusters in name order, and a cluster draws for its
/// RunTask calls (timeline order) and then its services (name order), so contention never depends on arrival.
/// </summary>
[Orleans.Placement.PreferLocalPlacement]
public sealed class RateLimitBucketGrain(
    [PersistentState("bucket", "sim")] IPersistentState<BucketState> state) : Grain, IRateLimitBucketGrain, ICheckpointedGrain
{
    public Task ReloadAsync() => state.ReadStateAsync();

    public Task Checkpoint(long nowMs) => state.WriteStateAsync();

    public Task<int> TryAcquire(long nowMs, int requested, BucketLimit limit)
    {
        var bucket = state.State.Bucket ?? TokenBucket.Full(limit, nowMs);
        var (next, granted) = bucket.Take(nowMs, requested, limit);
        state.State.Bucket = next;
        return Task.FromResult(granted);
    }

    public Task<int> Available(long nowMs, BucketLimit limit) =>
        Task.FromResult((state.State.Bucket ?? TokenBucket.Full(limit, nowMs)).Available(nowMs, limit));

    public Task<IReadOnlyList<long>> Reserve(long nowMs, int count, BucketLimit limit)
    {
        var bucket = state.State.Bucket ?? TokenBucket.Full(limit, nowMs);
        var ready = new long[count];
        for (var i = 0; i < count; i++)
        {
            (bucket, ready[i]) = bucket.Reserve(nowMs, limit);
        }
        state.State.Bucket = bucket;
        return Task.FromResult<IReadOnlyList<long>>(ready);
    }
}
