using Scheduler.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Cluster;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Grains.Tests;

public sealed class GrainUnitTests
{
    [Fact]
    public async Task Bucket_grain_grants_the_burst_then_the_refill_and_no_more()
    {
        await using var cluster = await TestClusters.StartAsync(1);
        var bucket = cluster.Client.GetGrain<IRateLimitBucketGrain>("unit/acme/runTask");
        var limit = new BucketLimit(100, 40);
        Assert.Equal(100, await bucket.TryAcquire(0, 150, limit));
        Assert.Equal(0, await bucket.TryAcquire(0, 1, limit));
        Assert.Equal(20, await bucket.TryAcquire(500, 50, limit));
        Assert.Equal(40, await bucket.TryAcquire(1_500, 1_000, limit));
    }

    [Fact]
    public async Task Instance_grain_accepts_a_batch_and_refuses_what_does_not_fit()
    {
        await using var cluster = await TestClusters.StartAsync(1);
        var type = InstanceTypeCatalog.Default.Find("m6i.large")!; // 2 vCPU, 8 GiB
        var host = cluster.Client.GetGrain<IContainerInstanceGrain>("unit/acme/c/i-00001");
        await host.Launch(new InstanceLaunch(0, "i-00001", "acme", "c", "a", "mi", type, "1.0", PreRegistered: true, Fargate: false), []);
        TaskLaunch Task(string id, int cpu) => new()
        {
            TaskId = id, StartedBy = "runTask", CapacityProvider = "mi", TaskDefinition = "x:1", Group = "x",
            Need = new Resources(cpu, 1024, 0), Images = [new ImageRef("x", 100)],
        };
        var report = (await host.Accept(1_000, [Task("t1", 1024), Task("t2", 1024), Task("t3", 1024)])).Value;
        Assert.Equal(["t3"], report.Refused);
        Assert.Equal(new Resources(0, 8192 - 2048, 0), report.Snapshot.Free);
        // Bridge mode on an instance: PROVISIONING lasts the agent's task start (no ENI), then PENDING.
        Assert.Empty(report.Events);
        Assert.Equal(1_000 + (long)LaunchPipeline.Default.Ec2TaskStart.TotalMilliseconds, report.NextDueMs);
        var later = (await host.Advance(report.NextDueMs)).Value;
        Assert.Equal([TaskStates.Pending, TaskStates.Pending], later.Events.Select(e => e.State));
    }
}
