namespace Scheduler.Grains.Checkpoints;

/// <summary>
/// Rolls an activation back when the run has resumed since it last loaded its state: the run's epoch in the call's
/// context is newer than the activation's. A call from an older epoch (one still on its way from before the
/// failure) is refused, so that it cannot change state the new epoch has reloaded.
/// </summary>
public sealed class CheckpointCallFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.TargetContext.GrainInstance is ICheckpointedGrain grain && CheckpointContext.Epoch is { } epoch)
        {
            var loaded = context.TargetContext.GetComponent<LoadedEpoch>();
            if (loaded is null)
            {
                // A new activation read the newest checkpoint it found; after a failure that may be one that was
                // never committed, so it reads again knowing which one was.
                context.TargetContext.SetComponent(new LoadedEpoch(epoch));
                if (epoch > 0)
                {
                    await grain.ReloadAsync();
                }
            }
            else if (epoch > loaded.Epoch)
            {
                await grain.ReloadAsync();
                loaded.Epoch = epoch;
            }
            else if (epoch < loaded.Epoch)
            {
                throw new StaleEpochException($"{context.TargetId} is at epoch {loaded.Epoch} of its run; a call of epoch {epoch} came too late");
            }
        }
        await context.Invoke();
    }

    private sealed class LoadedEpoch(long epoch)
    {
        public long Epoch { get; set; } = epoch;
    }
}

/// <summary>A call made before the run resumed reached a grain the resumed run has already rolled back.</summary>
[GenerateSerializer, Alias("stale-epoch")]
public sealed class StaleEpochException(string message) : Exception(message);
