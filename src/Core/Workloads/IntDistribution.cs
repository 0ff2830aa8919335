using Scheduler.Core.Randomness;

namespace Scheduler.Core.Workloads;

public enum IntDistributionKind { Fixed, Uniform, Normal, LogNormal }

/// <summary>
/// A whole-number distribution for generated sizes and counts: a fixed value, uniform over [min, max],
/// normal (mean, stddev) or log-normal (median, sigma), the last two rounded and clamped to [min, max].
/// Draws are pure functions of (seed, entity, stream, counter).
/// </summary>
public sealed record IntDistribution(IntDistributionKind Kind, double Center, double Spread, int Min, int Max)
{
    public static IntDistribution Fixed(int value) => new(IntDistributionKind.Fixed, value, 0, value, value);

    public static IntDistribution Uniform(int min, int max) => new(IntDistributionKind.Uniform, 0, 0, min, max);

    public int Sample(long seed, string entity, string stream, long counter)
    {
        double x;
        switch (Kind)
        {
            case IntDistributionKind.Fixed:
                return Min;
            case IntDistributionKind.Uniform:
                var span = (ulong)((long)Max - Min + 1);
                return (int)(Min + (long)(DeterministicRandom.NextUInt64(seed, entity, stream, counter) % span));
            case IntDistributionKind.Normal:
                x = Center + Spread * DeterministicRandom.NextNormal(seed, entity, stream, counter);
                break;
            default:
                x = Center * Math.Exp(Spread * DeterministicRandom.NextNormal(seed, entity, stream, counter));
                break;
        }
        return (int)Math.Clamp(Math.Round(x), Min, Max);
    }
}
