using Scheduler.Abstractions;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;
using Scheduler.Grains.Checkpoints;

namespace Scheduler.Grains;

/// <summary>
/// A token bucket grain (pure <see cref="BucketAgent"/>), one per (run, account, bucket). Callers within one
/// tick come in a fixed order: the account ticks its clusters in name order, and a cluster draws for its
/// RunTask calls (timeline order) and then its services (name order), so contention never depends on arrival.
/// </summary>
[Orleans.Placement.PreferLocalPlacement]
public sealed class RateLimitBucketGrain(
    [PersistentState("bucket", "sim")] IPersistentState<BucketAgent> state) : Grain, IRateLimitBucketGrain, ICheckpointedGrain
{
    public Task ReloadAsync() => state.ReadStateAsync();

    public Task Checkpoint(long nowMs) => state.WriteStateAsync();

    public Task<int> TryAcquire(long nowMs, int requested, BucketLimit limit) => Task.FromResult(state.State.TryAcquire(nowMs, requested, limit));

    public Task<int> Available(long nowMs, BucketLimit limit) => Task.FromResult(state.State.Available(nowMs, limit));

    public Task<IReadOnlyList<long>> Reserve(long nowMs, int count, BucketLimit limit) => Task.FromResult(state.State.Reserve(nowMs, count, limit));
}
