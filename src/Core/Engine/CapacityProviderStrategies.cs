using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Engine;

/// <summary>
/// A service's capacity provider strategy: the provider with a base gets the first
/// <c>base</c> tasks; the rest are split by weight. Decided from the service's current tasks per provider,
/// so a strategy keeps its shares as tasks stop and are replaced.
/// </summary>
public static class CapacityProviderStrategies
{
    /// <summary>The provider for the service's next task, given its tasks per provider now.</summary>
    public static string Next(IReadOnlyList<CapacityProviderStrategyItem> strategy, IReadOnlyDictionary<string, int> counts)
    {
        if (strategy.Count == 1)
        {
            return strategy[0].CapacityProvider;
        }
        foreach (var item in strategy)
        {
            if (item.Base > 0 && counts.GetValueOrDefault(item.CapacityProvider) < item.Base)
            {
                return item.CapacityProvider;
            }
        }
        // Beyond the base: the provider whose share, counting this task, stays lowest relative to its weight.
        // (c_i - b_i + 1) / w_i compared by cross-multiplication; ties go to the earlier entry.
        CapacityProviderStrategyItem? best = null;
        long bestNum = 0, bestDen = 1;
        foreach (var item in strategy)
        {
            if (item.Weight <= 0)
            {
                continue;
            }
            long num = Math.Max(0, counts.GetValueOrDefault(item.CapacityProvider) - item.Base) + 1;
            long den = item.Weight;
            if (best is null || num * bestDen < bestNum * den)
            {
                best = item;
                bestNum = num;
                bestDen = den;
            }
        }
        return (best ?? strategy[0]).CapacityProvider;
    }

    /// <summary>Providers for <paramref name="n"/> new tasks, one after another, updating a copy of the counts.</summary>
    public static List<string> Assign(IReadOnlyList<CapacityProviderStrategyItem> strategy, IReadOnlyDictionary<string, int> counts, int n)
    {
        var c = new Dictionary<string, int>(counts, StringComparer.Ordinal);
        var result = new List<string>(n);
        for (var i = 0; i < n; i++)
        {
            var cp = Next(strategy, c);
            c[cp] = c.GetValueOrDefault(cp) + 1;
            result.Add(cp);
        }
        return result;
    }
}
