using Scheduler.Core.Randomness;

namespace Scheduler.Core.Runtime;

/// <summary>
/// A managed runtime's heap sizing (the seed's Node.js recipe): the heap limit is <see cref="Percent"/> of the
/// container memory the process can see, clamped to [<see cref="MinMiB"/>, <see cref="MaxMiB"/>]; when no limit
/// is visible (no cgroup limit, no ECS_CONTAINER_MEMORY_LIMIT) the recipe assumes <see cref="FallbackMiB"/>.
/// Besides the heap the process uses <see cref="OverheadMiB"/> of code, stacks and external buffers, which the
/// recipe's percentage is meant to leave room for, and which the minimum clamp can squeeze out.
/// </summary>
public sealed record HeapSizing
{
    public double Percent { get; init; } = 75;
    public double MinMiB { get; init; } = 512;
    public double MaxMiB { get; init; } = 8192;
    public double FallbackMiB { get; init; } = 1024;
    public double OverheadMiB { get; init; }

    /// <summary>The heap limit (--max-old-space-size) for a visible container limit, or the fallback when none is visible.</summary>
    public double HeapMiB(double? visibleLimitMiB)
    {
        var heap = Math.Floor((visibleLimitMiB ?? FallbackMiB) * Percent / 100);
        // The seed's order: below the minimum → the minimum; else above the maximum → the maximum.
        return heap < MinMiB ? MinMiB : heap > MaxMiB ? MaxMiB : heap;
    }
}

/// <summary>
/// How much memory one container uses over time, from the moment it is RUNNING:
/// a base level that is constant (<see cref="StddevMiB"/> 0) or normal (a fresh draw per sample, truncated at
/// ±4σ so that <see cref="UpperBound"/> is a true bound), plus a linear leak (ramp), plus spikes (one per
/// <see cref="SpikeEveryMs"/> slot, at a random offset inside the slot, lasting <see cref="SpikeLengthMs"/>).
/// With a managed heap (<see cref="HeapMiB"/> set) the level is the heap's demand: the runtime holds the heap at
/// its limit at most and adds its fixed <see cref="OverheadMiB"/>.
/// </summary>
public sealed record MemoryUsageModel
{
    public double MeanMiB { get; init; }
    public double StddevMiB { get; init; }
    public double LeakMiBPerHour { get; init; }
    public long SpikeEveryMs { get; init; }
    public long SpikeLengthMs { get; init; }
    public double SpikeExtraMiB { get; init; }
    /// <summary>The resolved heap limit; null = not a managed runtime.</summary>
    public double? HeapMiB { get; init; }
    public double OverheadMiB { get; init; }

    /// <summary>Truncation of the normal draws, in standard deviations.</summary>
    public const double Truncation = 4;

    private const double HourMs = 3_600_000;

    /// <summary>
    /// Use at the sample taken <paramref name="sinceRunningMs"/> after the container started, covering the last
    /// <paramref name="windowMs"/> (a spike anywhere inside the window counts). <paramref name="sample"/> keys the
    /// normal draw; <paramref name="key"/> names the container (task id and container name).
    /// </summary>
    public double UseMiB(long seed, string key, long sample, long sinceRunningMs, long windowMs)
    {
        var z = StddevMiB == 0 ? 0 : Math.Clamp(DeterministicRandom.NextNormal(seed, key, "memory", sample), -Truncation, Truncation);
        var demand = Math.Max(0, MeanMiB + StddevMiB * z) + LeakMiBPerHour * sinceRunningMs / HourMs;
        if (SpikeExtraMiB > 0 && SpikeInWindow(seed, key, Math.Max(0, sinceRunningMs - windowMs), sinceRunningMs))
        {
            demand += SpikeExtraMiB;
        }
        return Runtime(demand);
    }

    /// <summary>An upper bound of <see cref="UseMiB"/> at any sample up to <paramref name="sinceRunningMs"/>; non-decreasing in time.</summary>
    public double UpperBound(long sinceRunningMs) =>
        Runtime(Math.Max(0, MeanMiB + StddevMiB * Truncation) + LeakMiBPerHour * Math.Max(0, sinceRunningMs) / HourMs + Math.Max(0, SpikeExtraMiB));

    /// <summary>Whether the use can grow without bound (a leak not capped by a heap limit).</summary>
    public bool Grows => LeakMiBPerHour > 0;

    private double Runtime(double demand) => HeapMiB is { } heap ? OverheadMiB + Math.Min(heap, demand) : demand;

    /// <summary>Whether a spike overlaps (from, to] (task-relative milliseconds).</summary>
    public bool SpikeInWindow(long seed, string key, long fromMs, long toMs)
    {
        if (SpikeEveryMs <= 0 || SpikeLengthMs <= 0 || toMs <= 0)
        {
            return false;
        }
        for (var slot = fromMs / SpikeEveryMs; slot <= toMs / SpikeEveryMs; slot++)
        {
            var start = SpikeStartMs(seed, key, slot);
            var end = start + SpikeLengthMs;
            if (start <= toMs && end > fromMs)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Start of the spike of slot <paramref name="slot"/> (task-relative milliseconds).</summary>
    public long SpikeStartMs(long seed, string key, long slot) =>
        slot * SpikeEveryMs + (long)(DeterministicRandom.NextDouble(seed, key, "spike", slot) * Math.Max(0, SpikeEveryMs - SpikeLengthMs));
}

/// <summary>What the host needs to run one container of a task: its limits, usage model and CPU behaviour.</summary>
public sealed record ContainerRuntime
{
    public required string Name { get; init; }
    public bool Essential { get; init; } = true;
    /// <summary>The hard limit (<c>memory</c>); null = none (only the task's or the host's memory bounds it).</summary>
    public double? HardLimitMiB { get; init; }
    /// <summary>Use of a container without a usage model: what it reserves.</summary>
    public double ReservedMiB { get; init; }
    public MemoryUsageModel? Memory { get; init; }
    /// <summary>cpu units as shares (Linux minimum 2).</summary>
    public int CpuShares { get; init; } = 2;
    /// <summary>cpu units the container wants while it runs.</summary>
    public double CpuDemand { get; init; }
    /// <summary>The start-up burst: cpu units wanted for <see cref="StartupMs"/> of uncontended time (e.g. a JVM starting).</summary>
    public double StartupCpu { get; init; }
    public long StartupMs { get; init; }
}
