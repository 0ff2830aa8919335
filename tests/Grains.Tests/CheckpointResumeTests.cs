using Scheduler.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;

namespace Scheduler.Grains.Tests;

/// <summary>
/// Rolling a run back to its last committed checkpoint and running on gives the same log as never stopping: every
/// grain's state survives the store (serialized and read back), and nothing is lost or produced twice.
/// </summary>
public sealed class CheckpointResumeTests
{
    [Fact]
    public async Task Resuming_from_the_last_checkpoint_again_and_again_gives_the_log_of_an_uninterrupted_run()
    {
        var scenario = TestScenarios.Load("scenarios/quickstart.yaml");
        await using var cluster = await TestClusters.StartAsync(3);
        var straight = (await TestClusters.RunAsync(cluster.Client, scenario, "straight")).Log;

        var sim = cluster.Client.GetGrain<ISimulationGrain>("resumed");
        // A checkpoint after (almost) every slice, so that resumes land both right after a commit and between one.
        await sim.Start(new SimulationSetup("resumed", scenario, InstanceTypeCatalog.Default.Types, CheckpointIntervalMs: 1));
        var events = new List<SimEvent>();
        long durable = 0;
        var calls = 0;
        var resumes = 0;
        var rolledBack = 0L;
        while (true)
        {
            var p = await sim.RunFor(5);
            events.AddRange(p.Events);
            Assert.True(p.DurableEvents >= durable, "a committed checkpoint never goes back");
            durable = p.DurableEvents;
            if (p.Done)
            {
                break;
            }
            if (++calls % 7 == 0)
            {
                var point = await sim.Resume();
                resumes++;
                Assert.True(point.Events >= durable, "the run resumes at or after what was committed");
                Assert.True(point.Events <= events.Count);
                rolledBack += events.Count - point.Events;
                events.RemoveRange((int)point.Events, events.Count - (int)point.Events);
                Assert.Equal(resumes, point.Epoch);
            }
        }
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        foreach (var e in events)
        {
            EventJson.WriteLine(e, writer);
        }
        Assert.True(resumes >= 3, $"only {resumes} resumes");
        Assert.True(rolledBack > 0, "no resume rolled anything back: the test would not see a broken rollback");
        Assert.Equal(straight, System.Text.Encoding.UTF8.GetString(writer.WrittenSpan));
    }
}
