using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;

namespace Scheduler.Core.Cluster;

/// <summary>A message from the cluster to one host (a container instance or a Fargate zone pool).</summary>
public abstract record HostCommand(string Host, long NowMs);

/// <summary>Brings a new host up (if it is not up yet) and hands it its first tasks.</summary>
public sealed record LaunchHost(InstanceLaunch Launch, IReadOnlyList<TaskLaunch> Tasks) : HostCommand(Launch.Id, Launch.NowMs);

/// <summary>Hands a running host tasks the placement put on it.</summary>
public sealed record AcceptTasks(string Host, long NowMs, IReadOnlyList<TaskLaunch> Tasks) : HostCommand(Host, NowMs);

/// <summary>Runs the host's lifecycle and its tasks' up to now (the host is due).</summary>
public sealed record AdvanceHost(string Host, long NowMs) : HostCommand(Host, NowMs);

/// <summary>Stops some of the host's tasks for one reason.</summary>
public sealed record StopHostTasks(string Host, long NowMs, IReadOnlyList<string> Tasks, string Reason) : HostCommand(Host, NowMs);

/// <summary>Takes the host out of service.</summary>
public sealed record DrainHost(string Host, long NowMs, DrainCause Cause) : HostCommand(Host, NowMs);

/// <summary>Grants the in-window patch replacement the host asked for.</summary>
public sealed record GrantPatchDrain(string Host, long NowMs) : HostCommand(Host, NowMs);

/// <summary>
/// One host's side of the cluster's messages: its <see cref="HostModel"/> and the run's launch pipeline, and what
/// each command does to them. The instance grain persists it; a test can hold many in memory.
/// </summary>
public sealed class InstanceAgent
{
    public HostModel? Host { get; set; }

    /// <summary>The run's launch pipeline (scenario overrides), fixed at launch.</summary>
    public LaunchPipeline? Pipeline { get; set; }

    private LaunchPipeline PipelineOrDefault => Pipeline ?? LaunchPipeline.Default;

    private HostModel Model => Host ?? throw new InvalidOperationException("the instance was never launched");

    /// <summary>Carries out <paramref name="command"/> and reports what it changed.</summary>
    public HostReport Apply(HostCommand command) => command switch
    {
        LaunchHost l => Launch(l.Launch, l.Tasks),
        AcceptTasks a => Accept(a.NowMs, a.Tasks),
        AdvanceHost a => Advance(a.NowMs),
        StopHostTasks s => Stop(s.NowMs, s.Tasks, s.Reason),
        DrainHost d => Drain(d.NowMs, d.Cause),
        GrantPatchDrain g => GrantPatchDrain(g.NowMs),
        _ => throw new ArgumentException($"unknown host command {command.GetType().Name}", nameof(command)),
    };

    public HostReport Launch(InstanceLaunch launch, IReadOnlyList<TaskLaunch> tasks)
    {
        var events = new List<SimEvent>();
        if (Host is null)
        {
            Pipeline = launch.Pipeline;
            Host = launch.Fargate
                ? HostModel.FargatePool(launch.Id, launch.Account, launch.Cluster, launch.Zone, launch.CapacityProvider)
                : HostModel.Launch(launch.Id, launch.Account, launch.Cluster, launch.Zone, launch.CapacityProvider,
                    launch.Type, launch.Ami, launch.NowMs, launch.PreRegistered, events);
            Host.Runtime = launch.Runtime ?? Runtime.RuntimeSettings.Default;
            if (launch.Lifecycle is { } lifecycle)
            {
                Host.StartLifecycle(lifecycle, PipelineOrDefault);
            }
        }
        var refused = Host.Accept(launch.NowMs, tasks, PipelineOrDefault);
        return Report(events, [], refused);
    }

    public HostReport Accept(long nowMs, IReadOnlyList<TaskLaunch> tasks)
    {
        var refused = Model.Accept(nowMs, tasks, PipelineOrDefault);
        // Steps due now (e.g. no ENI to attach) happen in this tick.
        return AdvanceAndReport(nowMs, [], refused);
    }

    public HostReport Advance(long nowMs) => AdvanceAndReport(nowMs, [], []);

    public HostReport Stop(long nowMs, IReadOnlyList<string> taskIds, string reason)
    {
        Model.RequestStop(nowMs, taskIds, reason);
        return AdvanceAndReport(nowMs, [], []);
    }

    public HostReport Drain(long nowMs, DrainCause cause)
    {
        var events = new List<SimEvent>();
        var updates = new List<TaskUpdate>();
        switch (cause.Kind)
        {
            case DrainKind.Failure:
                Model.Fail(nowMs, cause.Reason, events, updates);
                break;
            case DrainKind.Warning:
                Model.SpotInterruptionAtMs = Math.Min(Model.SpotInterruptionAtMs, nowMs);
                break;
            default:
                Model.BeginDrain(nowMs, cause.Reason, events);
                break;
        }
        Model.Advance(nowMs, PipelineOrDefault, events, updates);
        return Report(events, updates, []);
    }

    public HostReport GrantPatchDrain(long nowMs)
    {
        var events = new List<SimEvent>();
        if (Model.WantsDrain is { } reason)
        {
            Model.BeginDrain(nowMs, reason, events);
        }
        return AdvanceAndReport(nowMs, events, []);
    }

    private HostReport AdvanceAndReport(long nowMs, List<SimEvent> events, List<string> refused)
    {
        var updates = new List<TaskUpdate>();
        Model.Advance(nowMs, PipelineOrDefault, events, updates);
        return Report(events, updates, refused);
    }

    private HostReport Report(List<SimEvent> events, List<TaskUpdate> updates, List<string> refused)
    {
        var host = Model;
        return new(host.Id, events, updates, host.NextDueMs, host.Snapshot(), refused, host.Status, host.LaunchedAtMs, host.WantsDrain, host.DrainReason);
    }
}
