using System.Diagnostics;
using System.Diagnostics.Metrics;
using Scheduler.Core.Engine;

namespace Scheduler.Core.Diagnostics;

/// <summary>
/// The scheduler's live telemetry, in the .NET runtime's own types (no exporter here: the hosts choose one).
/// Traces: a <c>cluster.tick</c> span per cluster tick, with a <c>placement</c> span and one span per placement
/// phase under it. Metrics on the meter <c>Scheduler</c>. Nothing is recorded unless a listener subscribes.
/// </summary>
public static class SchedulerDiagnostics
{
    /// <summary>Name of both the activity source and the meter.</summary>
    public const string Name = "Scheduler";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    /// <summary>Tasks placed, by <c>phase</c> (1 existing capacity, 2 new capacity, 3 bin-packing).</summary>
    public static readonly Counter<long> Placements = Meter.CreateCounter<long>("scheduler.placements", "{task}", "Tasks placed, by placement phase");
    /// <summary>Tasks waiting for placement, summed over the clusters this process runs.</summary>
    public static readonly UpDownCounter<long> TasksPending = Meter.CreateUpDownCounter<long>("scheduler.tasks.pending", "{task}", "Tasks created and not yet placed");
    /// <summary>Wall time of one cluster tick.</summary>
    public static readonly Histogram<double> TickDuration = Meter.CreateHistogram<double>("scheduler.tick.duration", "s", "Wall time of one cluster tick");
    /// <summary>Throttled requests, by <c>bucket</c>.</summary>
    public static readonly Counter<long> Throttles = Meter.CreateCounter<long>("scheduler.throttles", "{request}", "Requests over a rate-limit bucket");
    public static readonly Counter<long> Ticks = Meter.CreateCounter<long>("scheduler.ticks", "{tick}", "Cluster ticks run");
    public static readonly Counter<long> Events = Meter.CreateCounter<long>("scheduler.events", "{event}", "Events produced");

    /// <summary>Starts the span of one cluster's tick (null when nobody listens).</summary>
    public static Activity? StartTick(string cluster, long nowMs)
    {
        var activity = Source.StartActivity("cluster.tick", ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("scheduler.cluster", cluster);
            activity.SetTag("scheduler.simulated_ms", nowMs);
        }
        return activity;
    }

    /// <summary>
    /// Records what a finished tick did: its events' placements and throttles, its wall time, and the change in
    /// its cluster's pending tasks since it last reported <paramref name="pendingReported"/>. Returns the pending
    /// count now reported.
    /// </summary>
    public static long TickDone(IReadOnlyList<SimEvent> events, long pending, long pendingReported, long startedTimestamp, Activity? tick)
    {
        Ticks.Add(1);
        Events.Add(events.Count);
        long placed1 = 0, placed2 = 0, placed3 = 0;
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case EventKinds.Placement:
                    switch (e.Phase)
                    {
                        case 1: placed1 += e.Placed; break;
                        case 2: placed2 += e.Placed; break;
                        case 3: placed3 += e.Placed; break;
                    }
                    break;
                case EventKinds.Throttle:
                    Throttles.Add(1, new KeyValuePair<string, object?>("bucket", e.Bucket));
                    break;
            }
        }
        AddPlaced(1, placed1);
        AddPlaced(2, placed2);
        AddPlaced(3, placed3);
        if (pending != pendingReported)
        {
            TasksPending.Add(pending - pendingReported);
        }
        TickDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);
        if (tick is { IsAllDataRequested: true })
        {
            tick.SetTag("scheduler.events", events.Count);
            tick.SetTag("scheduler.tasks.pending", pending);
        }
        return pending;
    }

    private static void AddPlaced(int phase, long placed)
    {
        if (placed > 0)
        {
            Placements.Add(placed, new KeyValuePair<string, object?>("phase", phase));
        }
    }
}
