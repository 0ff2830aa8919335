using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Cluster;

/// <summary>
/// What the cluster does differently per capacity type, in one place: whether its tasks run on instances the
/// cluster places them on or in a Fargate zone pool, whether its hosts follow the patch cycle and consolidation,
/// how it scales out, which account buckets its launches draw on, and whether it queues for spare capacity.
/// </summary>
public sealed record CapacityTypeTraits(
    CapacityType Type,
    bool Fargate,
    bool Patched,
    bool Consolidated,
    bool ScalesInSteps,
    bool QueuesForCapacity,
    string? LaunchBucket,
    string DeploymentBucket);

public static class CapacityTypes
{
    private static readonly Dictionary<CapacityType, CapacityTypeTraits> All = Enum.GetValues<CapacityType>().ToDictionary(t => t, Describe);

    /// <summary>The traits of <paramref name="type"/>.</summary>
    public static CapacityTypeTraits Of(CapacityType type) => All[type];

    private static CapacityTypeTraits Describe(CapacityType type) => new(
        type,
        Fargate: type is CapacityType.Fargate or CapacityType.FargateSpot,
        // AWS patches and consolidates Managed Instances; EC2 and external hosts are the user's to patch.
        Patched: type == CapacityType.ManagedInstances,
        Consolidated: type == CapacityType.ManagedInstances,
        // EC2 managed scaling adds instances in steps; Managed Instances launch what placement asks for.
        ScalesInSteps: type == CapacityType.Ec2,
        QueuesForCapacity: type == CapacityType.FargateSpot,
        LaunchBucket: BucketNames.LaunchBucket(type),
        DeploymentBucket: BucketNames.DeploymentBucket(type));
}
