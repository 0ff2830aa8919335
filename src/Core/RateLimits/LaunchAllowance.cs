using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.RateLimits;

/// <summary>
/// How many tasks a service may launch in one workflow cycle: its own deployment-rate bucket, and for services on
/// Fargate the account's launch buckets as its capacity provider strategy draws on them. Pure: the buckets' state is
/// passed in, and the cluster takes what was launched afterwards.
/// </summary>
public static class LaunchAllowance
{
    /// <summary>Tokens in a service's deployment-rate bucket now (a service not seen yet starts with a full bucket).</summary>
    public static int DeploymentTokens(IReadOnlyDictionary<string, TokenBucket> buckets, string service, BucketLimit limit, long nowMs) =>
        (buckets.TryGetValue(service, out var b) ? b : TokenBucket.Full(limit, nowMs)).Available(nowMs, limit);

    /// <summary>Takes <paramref name="n"/> launches from a service's deployment-rate bucket.</summary>
    public static void TakeDeploymentTokens(IDictionary<string, TokenBucket> buckets, string service, BucketLimit limit, long nowMs, int n)
    {
        var bucket = buckets.TryGetValue(service, out var b) ? b : TokenBucket.Full(limit, nowMs);
        buckets[service] = bucket.Take(nowMs, n, limit).Bucket;
    }

    /// <summary>
    /// How many tasks a Fargate service may start now: its strategy assigns providers one task at a time (from its
    /// live tasks per provider), and the first task whose launch bucket is empty ends the batch (it would be
    /// throttled; it waits instead). Returns the bucket that cut it short, or null.
    /// </summary>
    /// <param name="launchBucketOf">The account launch bucket a capacity provider draws on, or null for none.</param>
    public static (int Allowance, string? LimitedBy) Fargate(IReadOnlyList<CapacityProviderStrategyItem> strategy, IReadOnlyDictionary<string, int> providerCounts,
        int deployTokens, IReadOnlyDictionary<string, int> availableNow, Func<string, string?> launchBucketOf)
    {
        var available = new Dictionary<string, int>(availableNow, StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(providerCounts, StringComparer.Ordinal);
        for (var n = 0; n < deployTokens; n++)
        {
            var cp = CapacityProviderStrategies.Next(strategy, counts);
            if (launchBucketOf(cp) is { } bucket)
            {
                if (available[bucket] <= 0)
                {
                    return (n, bucket);
                }
                available[bucket]--;
            }
            counts[cp] = counts.GetValueOrDefault(cp) + 1;
        }
        return (deployTokens, null);
    }

    /// <summary>
    /// Whether a service's cycle begins a throttling episode: the account launch bucket <paramref name="limitedBy"/> held
    /// back part of what the service wanted to start (<paramref name="wanted"/>, of which it started
    /// <paramref name="started"/>, with <paramref name="backlog"/> still short). ECS reports one throttling when a
    /// service's launch request is first cut back; the cycles after it (the same request waiting for tokens) are not new
    /// rejections, until a cycle goes through unthrottled. <paramref name="throttled"/> holds the services in an episode.
    /// </summary>
    public static bool BeginsThrottleEpisode(ISet<string> throttled, string service, string? limitedBy, int wanted, int started, int backlog)
    {
        if (limitedBy is not null && backlog > 0 && wanted > started)
        {
            return throttled.Add(service);
        }
        throttled.Remove(service);
        return false;
    }
}
