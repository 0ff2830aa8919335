using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;

namespace Scheduler.Core.Tests.Launch;

/// <summary>Each stage of the launch pipeline is a named delay, in the right stage, and only where it applies.</summary>
public sealed class LaunchPipelineTests
{
    private static readonly LaunchPipeline P = new()
    {
        FargateCapacityAcquisition = TimeSpan.FromSeconds(10), FargateCapacityAcquisitionStddev = TimeSpan.FromSeconds(4),
        Ec2TaskStart = TimeSpan.FromSeconds(7), Ec2TaskStartStddev = TimeSpan.Zero,
        EniAttach = TimeSpan.FromSeconds(5), PublicIpAssignment = TimeSpan.FromSeconds(3),
        ImagePullLatency = TimeSpan.FromSeconds(1), ImagePullMiBPerSecond = 100, FargateImagePullMiBPerSecond = 10,
        ContainerStart = TimeSpan.FromSeconds(2), LoadBalancerRegistration = TimeSpan.FromSeconds(20),
    };

    private static TaskLaunch Launch(string id, bool awsvpc = true, bool publicIp = true, bool lb = false, double jitter = 0, long readyAt = 0) => new()
    {
        TaskId = id, StartedBy = "runTask", CapacityProvider = "cp", TaskDefinition = "app:1", Group = "g",
        Need = new Resources(256, 512, 0), Images = [new ImageRef("app:1", 100)], Awsvpc = awsvpc, PublicIp = publicIp,
        LoadBalancer = lb, HealthyAfterMs = 20_000, LaunchJitter = jitter, CapacityReadyAtMs = readyAt,
    };

    [Fact]
    public void Provisioning_adds_acquisition_eni_and_public_ip_where_they_apply()
    {
        Assert.Equal(10_000 + 5_000 + 3_000, HostModel.ProvisioningMs(Launch("a"), fargate: true, P));
        Assert.Equal(10_000 + 5_000, HostModel.ProvisioningMs(Launch("a", publicIp: false), fargate: true, P));
        Assert.Equal(10_000 + 4_000, HostModel.ProvisioningMs(Launch("a", jitter: 1.0, publicIp: false, awsvpc: false), fargate: true, P));
        Assert.Equal(0 + 0, HostModel.ProvisioningMs(Launch("a", jitter: -10, awsvpc: false), fargate: true, P));
        // On an instance there is no public IP; bridge mode has no ENI.
        Assert.Equal(7_000 + 5_000, HostModel.ProvisioningMs(Launch("a"), fargate: false, P));
        Assert.Equal(7_000, HostModel.ProvisioningMs(Launch("a", awsvpc: false), fargate: false, P));
    }

    private static Dictionary<string, List<(long T, string State, string Health)>> Run(HostModel host, IReadOnlyList<TaskLaunch> tasks, long until)
    {
        var events = new List<SimEvent>();
        host.Accept(0, tasks, P);
        for (long t = 0; t <= until; t += 1000)
        {
            host.Advance(t, P, events, []);
        }
        return events.Where(e => e.Kind == EventKinds.Task).GroupBy(e => e.Task!)
            .ToDictionary(g => g.Key, g => g.Select(e => (e.TimeMs, e.State!, e.Health!)).ToList());
    }

    [Fact]
    public void A_Fargate_task_walks_every_stage_with_its_delays()
    {
        var pool = HostModel.FargatePool("fargate-cp-a", "acct", "c1", "a", "cp");
        var log = Run(pool, [Launch("t1", lb: true)], 200_000)["t1"];
        // PROVISIONING 18 s → PENDING: pull 1 s + 100 MiB at 10 MiB/s, start 2 s → ACTIVATING: LB 20 s → RUNNING → HEALTHY after 20 s.
        Assert.Equal(
            [(18_000, "PENDING", "UNKNOWN"), (31_000, "ACTIVATING", "UNKNOWN"), (51_000, "RUNNING", "UNKNOWN"), (71_000, "RUNNING", "HEALTHY")],
            log);
    }

    [Fact]
    public void A_task_waits_for_its_capacity_before_acquisition_starts()
    {
        var pool = HostModel.FargatePool("fargate-spot-a", "acct", "c1", "a", "spot");
        var log = Run(pool, [Launch("t1", readyAt: 40_000)], 200_000)["t1"];
        Assert.Equal((58_000L, "PENDING", "UNKNOWN"), log[0]);
    }

    [Fact]
    public void An_instance_pulls_an_image_once_and_later_tasks_use_the_cache()
    {
        var type = InstanceTypeCatalog.Default.Find("m5.2xlarge")!;
        var host = HostModel.Launch("i-1", "acct", "c1", "a", "ec2", type, "ami", 0, preRegistered: true, []);
        var log = Run(host, [Launch("t1", awsvpc: false), Launch("t2", awsvpc: false)], 100_000);
        // Both PENDING at 7 s; the image is ready at 7 + 1 + 1 = 9 s for both (one pull), then 2 s start.
        Assert.Equal((11_000L, "ACTIVATING", "UNKNOWN"), log["t1"][1]);
        Assert.Equal((11_000L, "ACTIVATING", "UNKNOWN"), log["t2"][1]);
        var fargate = HostModel.FargatePool("fargate-cp-a", "acct", "c1", "a", "cp");
        var flog = Run(fargate, [Launch("f1", awsvpc: false), Launch("f2", awsvpc: false)], 100_000);
        // Fargate: no shared cache, each task pulls at Fargate bandwidth (11 s).
        Assert.Equal((10_000 + 11_000 + 2_000L, "ACTIVATING", "UNKNOWN"), flog["f2"][1]);
    }

    [Fact]
    public void Managed_scaling_at_most_doubles()
    {
        Assert.Equal(1, P.ManagedScalingStep(0));
        Assert.Equal(4, P.ManagedScalingStep(4));
        Assert.Equal(3, (P with { ManagedScalingMinimumStep = 3 }).ManagedScalingStep(1));
    }
}
