namespace Scheduler.Grains.Checkpoints;

/// <summary>
/// What every grain of a run needs to know about its checkpoints, carried with each call in the request
/// context: the simulation grain sets it before it calls its accounts, and it travels down the whole call
/// tree (accounts, clusters, services, placement, instances, buckets) without any interface carrying it.
/// </summary>
public static class CheckpointContext
{
    private const string EpochKey = "sched-ckpt-epoch";
    private const string CommittedKey = "sched-ckpt-committed";
    private const string WritingKey = "sched-ckpt-writing";
    private const string AbortedKey = "sched-ckpt-aborted";

    /// <summary>
    /// Sets the context of the calls that follow: the run's <paramref name="epoch"/> (raised each time the run resumes
    /// after a failure), its last <paramref name="committed"/> checkpoint, the checkpoints that were being written when
    /// the run failed (<paramref name="aborted"/>: copies stamped with them are never read), and the checkpoint being
    /// written, if any.
    /// </summary>
    public static void Set(long epoch, long committed, IReadOnlyCollection<long> aborted, long? writing = null)
    {
        RequestContext.Set(EpochKey, epoch);
        RequestContext.Set(CommittedKey, committed);
        if (aborted.Count > 0)
        {
            RequestContext.Set(AbortedKey, aborted.ToArray());
        }
        else
        {
            RequestContext.Remove(AbortedKey);
        }
        if (writing is { } w)
        {
            RequestContext.Set(WritingKey, w);
        }
        else
        {
            RequestContext.Remove(WritingKey);
        }
    }

    public static long? Epoch => RequestContext.Get(EpochKey) as long?;

    /// <summary>The run's last committed checkpoint; null outside a run's calls (e.g. a grain test calling a grain directly).</summary>
    public static long? Committed => RequestContext.Get(CommittedKey) as long?;

    /// <summary>The checkpoint the current call writes, while the simulation grain takes one.</summary>
    public static long? Writing => RequestContext.Get(WritingKey) as long?;

    /// <summary>Checkpoints that were never committed (their numbers are not used again).</summary>
    public static IReadOnlyList<long> Aborted => RequestContext.Get(AbortedKey) as long[] ?? [];
}
