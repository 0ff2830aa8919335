using Scheduler.Core.Randomness;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Lifecycle;

/// <summary>
/// How one host ages and what may happen to it, fixed when it launches: the patch cycle (Managed Instances
/// only), its capacity provider's maintenance window, and the random rates of scheduled maintenance events and
/// Spot interruptions. Null patch cycle = never patched or replaced by us (EC2, EXTERNAL, Fargate).
/// </summary>
public sealed record HostLifecyclePolicy
{
    public PatchCycle? Patch { get; init; }
    public MaintenanceWindow? Window { get; init; }
    public DateTimeOffset CalendarStart { get; init; } = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);
    /// <summary>Expected scheduled maintenance events per instance per 30 days.</summary>
    public double MaintenanceEventRate { get; init; }
    /// <summary>Expected Spot interruptions per instance per day (on FARGATE_SPOT: per task per day).</summary>
    public double SpotInterruptionRate { get; init; }
    public long Seed { get; init; }
    /// <summary>The simulation tick; forced stops begin early enough that rounding up to ticks never overshoots a deadline.</summary>
    public long TickMs { get; init; } = 1000;

    public static HostLifecyclePolicy None { get; } = new();

    public static HostLifecyclePolicy For(CapacityProviderSpec cp, DateTimeOffset calendarStart, long seed, long tickMs) => new()
    {
        Patch = cp.Type == CapacityType.ManagedInstances
            ? new PatchCycle(cp.PatchCycle.ReplaceInWindowAfter, cp.PatchCycle.ReplaceAnyTimeAfter, cp.PatchCycle.MaxLifetime)
            : null,
        Window = cp.MaintenanceWindow,
        CalendarStart = calendarStart,
        MaintenanceEventRate = cp.Type is CapacityType.ManagedInstances or CapacityType.Ec2 ? cp.MaintenanceEventRate : 0,
        SpotInterruptionRate = cp.Type is CapacityType.ManagedInstances or CapacityType.Ec2 or CapacityType.FargateSpot ? cp.SpotInterruptionRate : 0,
        Seed = seed,
        TickMs = tickMs,
    };

    /// <summary>The hard limit of a host launched at <paramref name="launchedMs"/>, or never.</summary>
    public long HardLimitMs(long launchedMs) =>
        Patch is null ? long.MaxValue : launchedMs + (long)Patch.HardLimit.TotalMilliseconds;

    /// <summary>When a host's scheduled maintenance event falls (exponential inter-arrival keyed by the host id), or never.</summary>
    public long MaintenanceEventMs(string hostId, long launchedMs) =>
        FirstArrival(MaintenanceEventRate / 30.0, hostId, "maintenance-event", launchedMs);

    /// <summary>When a Spot host (or a Fargate Spot task, by its task id) receives its two-minute interruption warning, or never.</summary>
    public long SpotInterruptionMs(string hostId, long launchedMs) =>
        FirstArrival(SpotInterruptionRate, hostId, "spot-interruption", launchedMs);

    private long FirstArrival(double perDay, string hostId, string stream, long launchedMs)
    {
        if (perDay <= 0)
        {
            return long.MaxValue;
        }
        var u = DeterministicRandom.NextDouble(Seed, hostId, stream, 0);
        var days = -Math.Log(1.0 - u) / perDay;
        // Beyond a year the event is as good as never (and keeps the arithmetic far from overflow).
        return days > 365 ? long.MaxValue : launchedMs + (long)Math.Ceiling(days * 86_400_000.0);
    }

    /// <summary>The Spot interruption notice: the instance is reclaimed this long after the warning.</summary>
    public const long SpotWarningMs = 120_000;
}
