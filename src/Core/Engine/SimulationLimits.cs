namespace Scheduler.Core.Engine;

public static class SimulationLimits
{
    /// <summary>An "until: settled" run still stops here, so a scenario that never settles cannot run forever.</summary>
    public static readonly long SettledCapMs = (long)TimeSpan.FromDays(400).TotalMilliseconds;

    /// <summary>The simulated end of a run in milliseconds.</summary>
    public static long EndMs(Scenarios.Scenario scenario) =>
        scenario.UntilSettled || scenario.Duration is null ? SettledCapMs : (long)scenario.Duration.Value.TotalMilliseconds;
}
