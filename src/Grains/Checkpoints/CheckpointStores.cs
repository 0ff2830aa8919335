namespace Scheduler.Grains.Checkpoints;

/// <summary>Names of the grain storages a silo of the scheduler provides (both over the one configured store).</summary>
public static class CheckpointStores
{
    /// <summary>The run's grains: two stamped copies of each state (<see cref="CheckpointGrainStorage"/>).</summary>
    public const string Grains = "sim";

    /// <summary>The simulation grain: one record, whose write commits a checkpoint.</summary>
    public const string Clock = "simclock";
}
