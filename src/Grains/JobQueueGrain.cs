using Scheduler.Abstractions;
using Scheduler.Core.Batch;
using Scheduler.Core.Scenarios;
using Scheduler.Grains.Checkpoints;

namespace Scheduler.Grains;

public sealed class JobQueueState
{
    public JobQueueModel? Model { get; set; }
}

/// <summary>A job queue: holds its jobs and hands each call to the pure <see cref="JobQueueModel"/>.</summary>
[Orleans.Placement.PreferLocalPlacement]
public sealed class JobQueueGrain(
    [PersistentState("jobQueue", "sim")] IPersistentState<JobQueueState> state) : Grain, IJobQueueGrain, ICheckpointedGrain
{
    public Task ReloadAsync() => state.ReadStateAsync();

    private JobQueueModel Model => state.State.Model ?? throw new InvalidOperationException("job queue not initialised");

    public Task Init(string account, ClusterSpec cluster, JobQueueSpec queue)
    {
        state.State.Model = JobQueueModel.Create(account, cluster, queue);
        return state.WriteStateAsync();
    }

    public Task<JobQueueStep> Drain(long nowMs, IReadOnlyList<JobSubmission> submissions, IReadOnlyList<JobResolution> resolutions, JobAllowance allowance,
        IReadOnlyList<JobCancellation> cancellations) =>
        Task.FromResult(Model.Drain(nowMs, submissions, resolutions, allowance, cancellations));

    public Task<JobQueueStep> Observe(long nowMs, IReadOnlyList<JobTaskOutcome> outcomes) =>
        Task.FromResult(Model.Observe(nowMs, outcomes));

    public Task Checkpoint(long nowMs) => state.WriteStateAsync();
}
