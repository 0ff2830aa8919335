using Scheduler.Core.Placement.Sharding;

namespace Scheduler.Core.Scenarios;

/// <summary>A cluster's <c>placement:</c> field: how its placement is split among schedulers.</summary>
internal sealed partial class ScenarioParser
{
    private static readonly string[] PlacementFields = ["shards", "mode", "conflict", "decisionTime"];

    private static readonly Dictionary<string, ShardingMode> ShardingModes = new()
    {
        ["monolithic"] = ShardingMode.Monolithic, ["partitioned"] = ShardingMode.Partitioned, ["shared-state"] = ShardingMode.SharedState,
    };

    private static readonly Dictionary<string, ConflictDetection> ConflictDetections = new()
    {
        ["fine"] = ConflictDetection.Fine, ["coarse"] = ConflictDetection.Coarse,
    };

    private ShardingSpec ParsePlacement(MapReader cluster)
    {
        if (cluster.Map("placement", PlacementFields) is not { } m)
        {
            return ShardingSpec.Monolithic;
        }
        var shards = m.Int("shards", min: 1, max: ShardingSpec.MaxShards);
        var mode = m.Enum("mode", ShardingModes);
        var conflict = m.Enum("conflict", ConflictDetections);
        var decision = m.Duration("decisionTime");
        var spec = new ShardingSpec
        {
            Shards = shards ?? 1,
            Mode = mode ?? (shards > 1 ? ShardingMode.SharedState : ShardingMode.Monolithic),
            Conflict = conflict ?? ConflictDetection.Fine,
            DecisionTimeMs = (long)(decision ?? TimeSpan.Zero).TotalMilliseconds,
        };
        if (spec.Mode == ShardingMode.Monolithic && spec.Shards > 1)
        {
            _ctx.Error(m["shards"]!, m.F("shards"), $"mode monolithic has one scheduler, not {spec.Shards}; use partitioned or shared-state for several");
        }
        if (conflict is not null && spec.Mode != ShardingMode.SharedState)
        {
            _ctx.Error(m["conflict"]!, m.F("conflict"), "conflict detection applies to mode shared-state only (partitioned and monolithic schedulers never conflict)");
        }
        if (decision > TimeSpan.FromHours(1))
        {
            _ctx.Error(m["decisionTime"]!, m.F("decisionTime"), "must be at most 1h");
        }
        return spec;
    }
}
