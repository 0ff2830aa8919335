namespace Scheduler.Core.Lifecycle;

/// <summary>How a host leaves service.</summary>
public enum DrainKind
{
    /// <summary>It drains: no new tasks, its service tasks are replaced elsewhere first, then it terminates.</summary>
    Graceful,

    /// <summary>A warning (a Spot interruption notice): the host's own clock drains it and reclaims it when the notice runs out.</summary>
    Warning,

    /// <summary>It is unreachable (its zone failed, its agent is gone): its tasks are lost at once.</summary>
    Failure,
}

/// <summary>Why a host is taken out of service (an instance event reason) and what kind of exit that is.</summary>
public readonly record struct DrainCause(string Reason, DrainKind Kind)
{
    /// <summary>The cause behind an instance event reason.</summary>
    public static DrainCause Of(string reason) => new(reason, reason switch
    {
        DrainReasons.ZoneFailure or DrainReasons.AgentDisconnect => DrainKind.Failure,
        DrainReasons.SpotInterruption => DrainKind.Warning,
        _ => DrainKind.Graceful,
    });
}
