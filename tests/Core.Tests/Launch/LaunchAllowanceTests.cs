using CsCheck;
using Scheduler.Core.Engine;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Launch;

/// <summary>A Fargate service's launch allowance against the account's launch buckets, over random strategies and bucket states.</summary>
public class LaunchAllowanceTests
{
    // Provider "od" draws on bucket A, "spot" on bucket B, "ec2" on none.
    private static string? BucketOf(string cp) => cp switch { "od" => "A", "spot" => "B", _ => null };

    private static readonly string[] Providers = ["od", "spot", "ec2"];

    [Fact]
    public void Allowance_never_overdraws_a_bucket_and_stops_only_at_an_empty_one()
    {
        var item = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 4], Gen.Int[0, 3]);
        Gen.Select(item.List[1, 3], Gen.Int[0, 5].Array[3], Gen.Int[0, 40], Gen.Int[0, 20], Gen.Int[0, 20]).Sample((items, live, tokens, a, b) =>
        {
            var strategy = items.DistinctBy(x => x.Item1)
                .Select((x, k) => new CapacityProviderStrategyItem(Providers[x.Item1], k == 0 ? Math.Max(1, x.Item2) : x.Item2, x.Item3)).ToList();
            var counts = strategy.ToDictionary(s => s.CapacityProvider, s => live[Array.IndexOf(Providers, s.CapacityProvider)], StringComparer.Ordinal);
            var available = new Dictionary<string, int>(StringComparer.Ordinal) { ["A"] = a, ["B"] = b };

            var (allowance, limitedBy) = LaunchAllowance.Fargate(strategy, counts, tokens, available, BucketOf);

            Assert.InRange(allowance, 0, tokens);
            var drawn = CapacityProviderStrategies.Assign(strategy, counts, allowance).Select(BucketOf).OfType<string>()
                .GroupBy(x => x).ToDictionary(g => g.Key, g => g.Count());
            Assert.All(drawn, kv => Assert.True(kv.Value <= available[kv.Key], $"bucket {kv.Key}: {kv.Value} drawn of {available[kv.Key]}"));
            if (allowance < tokens)
            {
                // The next task would have drawn on the bucket named, which has nothing left.
                Assert.NotNull(limitedBy);
                var next = CapacityProviderStrategies.Assign(strategy, counts, allowance + 1)[allowance];
                Assert.Equal(limitedBy, BucketOf(next));
                Assert.Equal(available[limitedBy!], drawn.GetValueOrDefault(limitedBy!));
            }
            else
            {
                Assert.Null(limitedBy);
            }
        });
    }

    [Fact]
    public void Deployment_tokens_start_full_and_fall_by_what_was_taken()
    {
        var limit = new BucketLimit(50, 5);
        var buckets = new Dictionary<string, TokenBucket>(StringComparer.Ordinal);
        Assert.Equal(50, LaunchAllowance.DeploymentTokens(buckets, "web", limit, 1_000));
        LaunchAllowance.TakeDeploymentTokens(buckets, "web", limit, 1_000, 30);
        Assert.Equal(20, LaunchAllowance.DeploymentTokens(buckets, "web", limit, 1_000));
        // Refilled at 5 per second, never above the burst.
        Assert.Equal(30, LaunchAllowance.DeploymentTokens(buckets, "web", limit, 3_000));
        Assert.Equal(50, LaunchAllowance.DeploymentTokens(buckets, "web", limit, 60_000));
        Assert.Equal(50, LaunchAllowance.DeploymentTokens(buckets, "api", limit, 3_000));
    }

    [Fact]
    public void A_throttling_episode_is_reported_once_when_a_service_is_first_held_back_and_again_only_after_a_clear_cycle()
    {
        // Per cycle of one service: whether the bucket held it back, and how much it wanted, started and still lacks.
        var cycle = Gen.Select(Gen.Bool, Gen.Int[0, 10], Gen.Int[0, 10], Gen.Int[0, 10]);
        cycle.List[0, 30].Sample(cycles =>
        {
            var throttled = new HashSet<string>(StringComparer.Ordinal);
            var wasHeld = false;
            foreach (var (limited, wanted, started, backlog) in cycles)
            {
                var held = limited && backlog > 0 && wanted > started;
                var begins = LaunchAllowance.BeginsThrottleEpisode(throttled, "web", limited ? "fargate" : null, wanted, started, backlog);
                Assert.Equal(held && !wasHeld, begins);
                Assert.Equal(held, throttled.Contains("web"));
                wasHeld = held;
            }
        });
    }
}
