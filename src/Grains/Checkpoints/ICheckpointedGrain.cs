namespace Scheduler.Grains.Checkpoints;

/// <summary>
/// A grain of a run whose state the run can roll back to its last committed checkpoint. After a silo dies, the
/// grains that survived on the other silos are ahead of that checkpoint; on their first call of the run's next
/// epoch, <see cref="CheckpointCallFilter"/> calls <see cref="ReloadAsync"/> before the call itself.
/// </summary>
public interface ICheckpointedGrain
{
    /// <summary>
    /// Re-reads the grain's persistent state (which the checkpoint storage answers with the committed checkpoint)
    /// and drops whatever the grain keeps in fields that is derived from its state. Sets of grains called since the
    /// last checkpoint may be kept: a larger set only writes a few grains more than needed.
    /// </summary>
    Task ReloadAsync();
}
