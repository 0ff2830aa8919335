using Scheduler.Abstractions;
using Scheduler.Core.Batch;
using Scheduler.Core.Scenarios;

namespace Scheduler.Grains;

public sealed class JobQueueState
{
    public JobQueueModel? Model { get; set; }
}

/// <summary>A job queue: holds its jobs and hands each call to the pure <see cref="JobQueueModel"/>.</summary>
public sealed class JobQueueGrain(
    [PersistentState("jobQueue", "sim")] IPersistentState<JobQueueState> state) : Grain, IJobQueueGrain
{
    private JobQueueModel Model => state.State.Model ?? throw new InvalidOperationException("job queue not initialised");

    public Task Init(string account, ClusterSpec cluster, JobQueueSpec queue)
    {
        state.State.Model = JobQueueModel.Create(account, cluster, queue);
        return state.WriteStateAsync();
    }

    public Task<JobQueueStep> Drain(long nowMs, IReadOnlyList<JobSubmission> submissions, IReadOnlyList<JobResolution> resolutions, JobAllowance allowance) =>
        Task.FromResult(Model.Drain(nowMs, submissions, resolutions, allowance));

    public Task<JobQueueStep> Observe(long nowMs, IReadOnlyList<JobTaskOutcome> outcomes) =>
        Task.FromResult(Model.Observe(nowMs, outcomes));

    public Task Checkpoint(long nowMs) => state.WriteStateAsync();
}
