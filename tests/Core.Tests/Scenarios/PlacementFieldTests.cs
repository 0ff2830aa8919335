using Scheduler.Core.Placement.Sharding;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Scenarios;

public sealed class PlacementFieldTests
{
    private static string Scenario(string placement) => $$"""
        name: sharded
        accounts:
          - id: acme
            clusters:
              - name: prod
        {{placement}}
                capacityProviders: [ { name: ec2, type: EC2, instanceTypes: [m5.2xlarge], initialInstances: 2 } ]
                taskDefinitions: [ { family: work, cpu: 256, memory: 512, containers: [ { name: w, image: w, memory: 512 } ] } ]
        """;

    [Fact]
    public void Without_the_field_a_cluster_has_one_monolithic_scheduler()
    {
        var result = ScenarioLoader.Parse(Scenario(""), "s.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.True(result.Scenario!.Accounts[0].Clusters[0].Placement.IsDefault);
    }

    [Fact]
    public void The_field_is_read_with_every_part()
    {
        var result = ScenarioLoader.Parse(Scenario("        placement: { shards: 4, mode: shared-state, conflict: coarse, decisionTime: 2500ms }"), "s.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(new ShardingSpec { Shards = 4, Mode = ShardingMode.SharedState, Conflict = ConflictDetection.Coarse, DecisionTimeMs = 2500 },
            result.Scenario!.Accounts[0].Clusters[0].Placement);
        var partitioned = ScenarioLoader.Parse(Scenario("        placement: { shards: 3, mode: partitioned }"), "s.yaml");
        Assert.Equal(new ShardingSpec { Shards = 3, Mode = ShardingMode.Partitioned }, partitioned.Scenario!.Accounts[0].Clusters[0].Placement);
    }

    [Theory]
    [InlineData("placement: { shards: 0, mode: partitioned }", "accounts[0].clusters[0].placement.shards")]
    [InlineData("placement: { shards: 65, mode: partitioned }", "accounts[0].clusters[0].placement.shards")]
    [InlineData("placement: { shards: 2, mode: monolithic }", "accounts[0].clusters[0].placement.shards")]
    [InlineData("placement: { shards: 2, mode: sharded }", "accounts[0].clusters[0].placement.mode")]
    [InlineData("placement: { shards: 2, mode: partitioned, conflict: fine }", "accounts[0].clusters[0].placement.conflict")]
    [InlineData("placement: { shards: 2, mode: shared-state, conflict: medium }", "accounts[0].clusters[0].placement.conflict")]
    [InlineData("placement: { shards: 2, mode: shared-state, decisionTime: -1s }", "accounts[0].clusters[0].placement.decisionTime")]
    [InlineData("placement: { shards: 2, mode: shared-state, decisionTime: 2h }", "accounts[0].clusters[0].placement.decisionTime")]
    [InlineData("placement: { shards: 2, mode: shared-state, decision: 1s }", "accounts[0].clusters[0].placement.decision")]
    public void A_bad_value_is_an_error_naming_file_line_and_field(string placement, string field)
    {
        var result = ScenarioLoader.Parse(Scenario("        " + placement), "study.yaml");
        Assert.False(result.Ok);
        var error = Assert.Single(result.Errors);
        Assert.Equal(("study.yaml", 6, field), (error.File, error.Line, error.Field));
    }
}
