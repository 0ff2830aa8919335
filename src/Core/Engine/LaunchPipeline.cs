namespace Scheduler.Core.Engine;

/// <summary>
/// The modelled delays between a placement decision and a RUNNING, HEALTHY task, each a
/// named parameter that a scenario may override under <c>launchPipeline:</c> (README, "Launch pipeline").
/// The defaults are calibrated so that the published launch benchmark (scenarios/ecs-launch-benchmark)
/// is reproduced within 5 %: each published time is the deployment rate's scheduling (1,000 tasks at 500 a
/// minute on Fargate, 250 on EC2) plus these delays, so the delays are what is left after the scheduling.
///
/// Stages of a task: PROVISIONING (capacity acquisition: the Fargate pool, Spot availability, or the EC2
/// agent taking the task; then ENI attach and public IP for awsvpc) → PENDING (image pull unless cached on
/// the instance; container start) → ACTIVATING (load balancer registration) → RUNNING → HEALTHY (the task
/// definition's health check). New EC2 instances take the catalog's launch latency to register.
/// </summary>
public sealed record LaunchPipeline
{
    /// <summary>Fargate: taking a pre-warmed task slot from the pool (mean), per task.</summary>
    public TimeSpan FargateCapacityAcquisition { get; init; } = TimeSpan.FromSeconds(24);
    /// <summary>Fargate: spread of the pool acquisition (normal, per task, never below zero).</summary>
    public TimeSpan FargateCapacityAcquisitionStddev { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Fargate Spot availability: warm Spot slots an account finds at once.</summary>
    public double SpotCapacityWarmTasks { get; init; } = 250;
    /// <summary>Fargate Spot availability: slots per second that free up after the warm ones are taken (tasks wait in PROVISIONING).</summary>
    public double SpotCapacityPerSecond { get; init; } = 2.8;
    /// <summary>EC2, Managed Instances, External: the scheduler reserving room and the agent taking the task (mean).</summary>
    public TimeSpan Ec2TaskStart { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Spread of <see cref="Ec2TaskStart"/> (normal, per task, never below zero).</summary>
    public TimeSpan Ec2TaskStartStddev { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>awsvpc: attaching the task's elastic network interface.</summary>
    public TimeSpan EniAttach { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>Fargate awsvpc with assignPublicIp: allocating and associating a public IPv4 address.</summary>
    public TimeSpan PublicIpAssignment { get; init; } = TimeSpan.FromSeconds(9);
    /// <summary>Fixed cost of an image pull that is not cached (registry round trips, layer set-up).</summary>
    public TimeSpan ImagePullLatency { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Image download and extraction bandwidth on an instance.</summary>
    public double ImagePullMiBPerSecond { get; init; } = 100;
    /// <summary>Image download and extraction bandwidth of a Fargate task (no cache: every task pulls).</summary>
    public double FargateImagePullMiBPerSecond { get; init; } = 10;
    /// <summary>Container runtime start until the process runs.</summary>
    public TimeSpan ContainerStart { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Registering a target with a load balancer target group until it is in service.</summary>
    public TimeSpan LoadBalancerRegistration { get; init; } = TimeSpan.FromSeconds(44);
    /// <summary>Load balancer deregistration delay before SIGTERM on stop.</summary>
    public TimeSpan LoadBalancerDeregistration { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How long a well-behaved process takes to exit after SIGTERM (capped by stopTimeout, then SIGKILL).</summary>
    public TimeSpan GracefulExit { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>awsvpc: detaching the network interface after the containers exit.</summary>
    public TimeSpan EniDetach { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>EC2 capacity provider managed scaling: time between scale-out steps (metric period, alarm, instance warm-up).</summary>
    public TimeSpan ManagedScalingInterval { get; init; } = TimeSpan.FromSeconds(200);
    /// <summary>EC2 managed scaling: instances the first step launches when the provider has none.</summary>
    public int ManagedScalingMinimumStep { get; init; } = 1;

    public static LaunchPipeline Default { get; } = new();

    public long PullMs(int imageSizeMiB) => PullMs(imageSizeMiB, ImagePullMiBPerSecond);

    public long PullMs(int imageSizeMiB, double mibPerSecond) =>
        (long)ImagePullLatency.TotalMilliseconds + (long)Math.Ceiling(imageSizeMiB / mibPerSecond * 1000);

    /// <summary>A per-task delay: mean plus stddev times the task's standard normal draw, never below zero.</summary>
    public static long Jittered(TimeSpan mean, TimeSpan stddev, double z) =>
        (long)Math.Max(0, Math.Round(mean.TotalMilliseconds + stddev.TotalMilliseconds * z));

    /// <summary>
    /// EC2 managed scaling (ECS's CapacityProviderReservation target tracking): a step may at most double
    /// the provider's instances (the metric is capped at 200 %), and launches at least the minimum step.
    /// </summary>
    public int ManagedScalingStep(int currentInstances) => Math.Max(ManagedScalingMinimumStep, currentInstances);
}
