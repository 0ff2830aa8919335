namespace Scheduler.Core.Engine;

public static class SimulationLimits
{
    /// <summary>
    /// An "until: settled" run without a <c>maxDuration</c> still stops here, so a scenario that never settles
    /// cannot run forever.
    /// </summary>
    public static readonly TimeSpan DefaultMaxDuration = TimeSpan.FromDays(400);

    public static readonly long SettledCapMs = (long)DefaultMaxDuration.TotalMilliseconds;

    /// <summary>The simulated end of a run in milliseconds: its duration, or for "until: settled" its maxDuration.</summary>
    public static long EndMs(Scenarios.Scenario scenario) =>
        scenario.UntilSettled || scenario.Duration is null
            ? (long)(scenario.MaxDuration ?? DefaultMaxDuration).TotalMilliseconds
            : (long)scenario.Duration.Value.TotalMilliseconds;
}
