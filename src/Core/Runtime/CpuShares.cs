namespace Scheduler.Core.Runtime;

/// <summary>
/// CPU shares: cpu units are relative weights, not limits. Uncontended, every container
/// gets what it wants; contended, the host's CPU is divided in proportion to shares, and what a container does
/// not use goes to the others (work conserving, like the Linux CFS cpu.shares): 1024 shares get four times the
/// time of 256 when both want more than they can have.
/// </summary>
public static class CpuShares
{
    /// <summary>Linux's minimum cpu.shares (a container with cpu 0 gets 2).</summary>
    public const int MinimumShares = 2;

    /// <summary>Divides <paramref name="capacity"/> (cpu units) among containers by shares (water-filling).</summary>
    public static double[] Allocate(double capacity, IReadOnlyList<(int Shares, double Demand)> containers)
    {
        var n = containers.Count;
        var allocation = new double[n];
        var active = new List<int>(n);
        for (var i = 0; i < n; i++)
        {
            if (containers[i].Demand > 0)
            {
                active.Add(i);
            }
        }
        var remaining = Math.Max(0, capacity);
        while (active.Count > 0)
        {
            var totalShares = active.Sum(i => (double)Math.Max(MinimumShares, containers[i].Shares));
            var satisfied = active.Where(i => containers[i].Demand <= remaining * Math.Max(MinimumShares, containers[i].Shares) / totalShares).ToList();
            if (satisfied.Count == 0)
            {
                foreach (var i in active)
                {
                    allocation[i] = remaining * Math.Max(MinimumShares, containers[i].Shares) / totalShares;
                }
                break;
            }
            foreach (var i in satisfied)
            {
                allocation[i] = containers[i].Demand;
                remaining -= containers[i].Demand;
                active.Remove(i);
            }
            remaining = Math.Max(0, remaining);
        }
        return allocation;
    }

    /// <summary>
    /// How long a start-up burst of <paramref name="startupMs"/> (uncontended) takes when it gets
    /// <paramref name="allocated"/> of the <paramref name="wanted"/> cpu units: the same CPU work, done slower.
    /// </summary>
    public static long Stretch(long startupMs, double wanted, double allocated) =>
        wanted <= 0 || allocated >= wanted ? startupMs
        : allocated <= 0 ? long.MaxValue / 4
        : (long)Math.Ceiling(startupMs * wanted / allocated);
}
