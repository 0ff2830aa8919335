using CsCheck;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Launch;

public sealed class CapacityProviderStrategyTests
{
    [Fact]
    public void Fifty_fifty_alternates()
    {
        CapacityProviderStrategyItem[] strategy = [new("fargate", 1, 0), new("spot", 1, 0)];
        var assigned = CapacityProviderStrategies.Assign(strategy, new Dictionary<string, int>(), 6);
        Assert.Equal(["fargate", "spot", "fargate", "spot", "fargate", "spot"], assigned);
    }

    [Fact]
    public void Base_comes_first_then_weights()
    {
        CapacityProviderStrategyItem[] strategy = [new("fargate", 1, 2), new("spot", 3, 0)];
        var assigned = CapacityProviderStrategies.Assign(strategy, new Dictionary<string, int>(), 10);
        Assert.Equal(["fargate", "fargate"], assigned.Take(2));
        Assert.Equal(2 + 2, assigned.Count(a => a == "fargate"));
        Assert.Equal(6, assigned.Count(a => a == "spot"));
    }

    [Fact]
    public void Existing_tasks_count_so_replacements_keep_the_shares()
    {
        CapacityProviderStrategyItem[] strategy = [new("fargate", 1, 0), new("spot", 1, 0)];
        var counts = new Dictionary<string, int> { ["fargate"] = 5, ["spot"] = 2 };
        Assert.Equal(["spot", "spot", "spot"], CapacityProviderStrategies.Assign(strategy, counts, 3));
    }

    /// <summary>From nothing, any strategy honours its base, and beyond it every provider is within one task of its weighted share.</summary>
    [Fact]
    public void Shares_follow_base_and_weight()
    {
        var items = Gen.Select(Gen.Int[0, 5], Gen.Int[0, 20]).Array[1, 4];
        Gen.Select(items, Gen.Int[0, 300]).Sample((raw, n) =>
        {
            if (raw.All(r => r.Item1 == 0))
            {
                raw[0] = (1, raw[0].Item2);
            }
            var strategy = raw.Select((r, i) => new CapacityProviderStrategyItem($"cp{i}", r.Item1, i == 0 ? r.Item2 : 0)).ToArray();
            var assigned = CapacityProviderStrategies.Assign(strategy, new Dictionary<string, int>(), n);
            var b = Math.Min(n, strategy[0].Base);
            Assert.All(assigned.Take(b), a => Assert.Equal("cp0", a));
            var rest = n - b;
            var totalWeight = strategy.Sum(s => s.Weight);
            foreach (var s in strategy)
            {
                var got = assigned.Count(a => a == s.CapacityProvider) - (s.CapacityProvider == "cp0" ? b : 0);
                var share = (double)rest * s.Weight / totalWeight;
                Assert.InRange(got, Math.Floor(share) - 1, Math.Ceiling(share) + 1);
            }
        }, iter: 2_000);
    }
}
