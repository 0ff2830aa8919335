using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.Runtime;

namespace Scheduler.Core.Tests.Runtime;

public sealed class CpuSharesTests
{
    [Fact]
    public void Shares_divide_contended_cpu_and_are_never_a_cap()
    {
        Gen.Select(Gen.Double[0, 16384], Gen.Select(Gen.Int[0, 4096], Gen.Double[0, 8192]).Array[0, 30]).Sample((capacity, containers) =>
        {
            var alloc = CpuShares.Allocate(capacity, containers);
            var demand = containers.Sum(c => c.Item2);
            Assert.True(alloc.Sum() <= capacity + 1e-6);
            for (var i = 0; i < containers.Length; i++)
            {
                Assert.InRange(alloc[i], 0, containers[i].Item2 + 1e-9);
            }
            if (demand <= capacity)
            {
                // Uncontended: everyone gets what it wants, whatever its shares (no cap).
                Assert.All(Enumerable.Range(0, containers.Length), i => Assert.Equal(containers[i].Item2, alloc[i], 6));
            }
            else
            {
                // Work conserving: the whole host is used.
                Assert.Equal(capacity, alloc.Sum(), 6);
                // Two containers that both got less than they wanted got CPU in proportion to their shares.
                var short_ = Enumerable.Range(0, containers.Length).Where(i => alloc[i] < containers[i].Item2 - 1e-6).ToList();
                foreach (var i in short_)
                {
                    foreach (var j in short_)
                    {
                        var si = Math.Max(CpuShares.MinimumShares, containers[i].Item1);
                        var sj = Math.Max(CpuShares.MinimumShares, containers[j].Item1);
                        Assert.Equal(alloc[i] / si, alloc[j] / sj, 6);
                    }
                }
            }
        });
    }

    [Fact]
    public void Shares_1024_get_four_times_the_time_of_256()
    {
        var alloc = CpuShares.Allocate(2048, [(1024, 4096), (256, 4096)]);
        Assert.Equal(4.0, alloc[0] / alloc[1], 9);
        // Idle neighbour: the 256-share container may use the whole host.
        Assert.Equal(2048, CpuShares.Allocate(2048, [(1024, 0), (256, 4096)])[1]);
    }

    private static TaskLaunch Java(string id, double steady) => new()
    {
        TaskId = id, StartedBy = "runTask", CapacityProvider = "ec2", TaskDefinition = "java:1", Group = "family:java",
        Need = new Resources(512, 1024, 0), Seed = 1,
        Containers =
        [
            new ContainerRuntime
            {
                Name = "app", ReservedMiB = 1024, Memory = new MemoryUsageModel { MeanMiB = 500 }, CpuShares = 512, CpuDemand = steady,
                StartupCpu = 2048, StartupMs = 20_000,
            },
        ],
    };

    [Fact]
    public void A_start_up_burst_is_slower_on_a_contended_host()
    {
        long TimeToRunning(bool busy)
        {
            var events = new List<SimEvent>();
            var host = HostModel.Launch("i-00001", "acme", "prod", "a", "ec2", InstanceTypeCatalog.Default.Find("m5.large")!, "1.20.0", 0, true, events);
            if (busy)
            {
                // Two running neighbours that want the whole host (2048 units) with 512 shares each.
                host.Accept(0, [Java("n-1", 2048), Java("n-2", 2048)], LaunchPipeline.Default);
                MemoryModelTests.Run(host, 600_000);
            }
            host.Accept(600_000, [Java("new", 0)], LaunchPipeline.Default);
            var (log, _, _) = MemoryModelTests.Run(host, 1_200_000);
            return log.Single(e => e.Task == "new" && e.State == TaskStates.Running).TimeMs - 600_000;
        }
        var idle = TimeToRunning(false);
        var busy = TimeToRunning(true);
        // Alone: 20 s of burst at full speed. Against two equal neighbours: a third of the host, three times as long.
        Assert.InRange(busy - idle, 39_000, 41_000);
    }
}
