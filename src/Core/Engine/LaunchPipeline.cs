namespace Scheduler.Core.Engine;

/// <summary>
/// The modelled delays between a placement decision and a RUNNING, HEALTHY task (SPEC section 7),
/// each a named parameter. Defaults are first estimates; calibration against the published launch
/// benchmark adjusts them (issue 5).
/// </summary>
public sealed record LaunchPipeline
{
    /// <summary>awsvpc: attaching the task's elastic network interface.</summary>
    public TimeSpan EniAttach { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Fixed cost of an image pull that is not cached (registry round trips, layer set-up).</summary>
    public TimeSpan ImagePullLatency { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Image download bandwidth per instance.</summary>
    public double ImagePullMiBPerSecond { get; init; } = 100;
    /// <summary>Container runtime start until the process runs.</summary>
    public TimeSpan ContainerStart { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Registering a target with a load balancer target group until it is in service.</summary>
    public TimeSpan LoadBalancerRegistration { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Load balancer deregistration delay before SIGTERM on stop.</summary>
    public TimeSpan LoadBalancerDeregistration { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How long a well-behaved process takes to exit after SIGTERM (capped by stopTimeout, then SIGKILL).</summary>
    public TimeSpan GracefulExit { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>awsvpc: detaching the network interface after the containers exit.</summary>
    public TimeSpan EniDetach { get; init; } = TimeSpan.FromSeconds(2);

    public static LaunchPipeline Default { get; } = new();

    public long PullMs(int imageSizeMiB) =>
        (long)ImagePullLatency.TotalMilliseconds + (long)Math.Ceiling(imageSizeMiB / ImagePullMiBPerSecond * 1000);
}
