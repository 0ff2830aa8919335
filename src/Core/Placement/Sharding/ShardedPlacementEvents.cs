using Scheduler.Core.Engine;

namespace Scheduler.Core.Placement.Sharding;

/// <summary>The events of a sharded tick: per scheduler that decided, its placement events (one per phase, as a single scheduler's) and its conflicts.</summary>
public static class ShardedPlacementEvents
{
    public static void Append(List<SimEvent> events, long nowMs, long tick, string account, string cluster, IReadOnlyList<ShardOutcome> shards)
    {
        foreach (var s in shards)
        {
            if (!s.Decided || s.Pending == 0)
            {
                continue;
            }
            var remaining = s.Pending;
            foreach (var phase in new[] { PlacementPhase.ExistingCapacity, PlacementPhase.NewCapacity, PlacementPhase.BinPacking })
            {
                if (remaining == 0 && phase != PlacementPhase.ExistingCapacity)
                {
                    break;
                }
                var placed = s.Committed.Assignments.Count(a => a.Phase == phase);
                remaining -= placed;
                events.Add(new SimEvent
                {
                    TimeMs = nowMs, Kind = EventKinds.Placement, Account = account, Cluster = cluster,
                    Tick = tick, Phase = (int)phase, Placed = placed, Unplaced = remaining,
                    InstancesRequested = phase == PlacementPhase.NewCapacity ? s.Committed.NewInstances.Count : 0,
                    Shard = s.Shard, Retries = phase == PlacementPhase.ExistingCapacity ? s.Retries : 0,
                });
            }
            foreach (var c in s.Conflicts)
            {
                events.Add(new SimEvent
                {
                    TimeMs = nowMs, Kind = EventKinds.Conflict, Account = account, Cluster = cluster,
                    Shard = c.Shard, Task = c.TaskId, Instance = c.InstanceId, Reason = c.Reason,
                });
            }
        }
    }
}
