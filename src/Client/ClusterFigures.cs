using Scheduler.Grains.Checkpoints;

namespace Scheduler.Client;

/// <summary>
/// How a run spread over the silos: the silos, the run's activations on each (Orleans's management grain), the
/// messages that crossed between silos and the checkpoint writes (each silo's own counters). Read-only figures for
/// the summary, never the log.
/// </summary>
public sealed record ClusterFigures(int Silos, SortedDictionary<string, int> ActivationsPerSilo, long CrossSiloMessages, long CheckpointWrites, double CheckpointWriteSeconds)
{
    /// <summary>The silos' counters summed, before a run (the figures of a run are the difference).</summary>
    public static async Task<SiloCounterSnapshot> CountersAsync(IGrainFactory grains)
    {
        var answers = await grains.GetGrain<IManagementGrain>(0).SendControlCommandToProvider<SiloCounters>(SiloCounters.Name, 0, null!);
        var snapshots = answers.OfType<SiloCounterSnapshot>().ToList();
        return new SiloCounterSnapshot(snapshots.Sum(s => s.CrossSiloCalls), snapshots.Sum(s => s.CheckpointWrites), snapshots.Sum(s => s.CheckpointWriteSeconds));
    }

    public static async Task<ClusterFigures> CollectAsync(IGrainFactory grains, string runId, SiloCounterSnapshot before)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var silos = (await management.GetHosts(onlyActive: true)).Keys.ToArray();
        var activations = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var silo in silos)
        {
            activations[silo.Endpoint.ToString()] = 0;
        }
        foreach (var grain in await management.GetDetailedGrainStatistics(null, silos))
        {
            var key = grain.GrainId.Key.ToString();
            if (key == runId || key.StartsWith(runId + "/", StringComparison.Ordinal))
            {
                var silo = grain.SiloAddress.Endpoint.ToString();
                activations[silo] = activations.GetValueOrDefault(silo) + 1;
            }
        }
        var after = await CountersAsync(grains);
        // A call is two messages: the request and its response.
        return new ClusterFigures(silos.Length, activations, 2 * (after.CrossSiloCalls - before.CrossSiloCalls),
            after.CheckpointWrites - before.CheckpointWrites, after.CheckpointWriteSeconds - before.CheckpointWriteSeconds);
    }
}
