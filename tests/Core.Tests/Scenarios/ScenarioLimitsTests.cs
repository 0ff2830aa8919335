using System.Text;
using CsCheck;
using Scheduler.Core.Scenarios;
using static Scheduler.TestSupport.TestScenarios;

namespace Scheduler.Core.Tests.Scenarios;

/// <summary>
/// Hostile scenario files: each stops at its bound with one error that names the bound and how to raise it,
/// instead of exhausting the stack, memory or time. The files are generated here, not committed.
/// </summary>
public sealed class ScenarioLimitsTests
{
    private const string Cluster = """
        { name: c, capacityProviders: [ { name: f, type: FARGATE } ],
          taskDefinitions: [ { family: t, cpu: 256, memory: 512, containers: [ { name: a, image: i, cpu: 256, memory: 512 } ] } ],
          services: [ { name: s, taskDefinition: t, desiredCount: 1 } ] }
        """;

    /// <summary>A tenants generator's cluster template: a cluster without its name.</summary>
    private static readonly string Template = Cluster.Replace("name: c, ", "", StringComparison.Ordinal).ReplaceLineEndings(" ");

    [Fact]
    public void A_hundred_thousand_nested_lists_are_one_nesting_error_not_a_stack_overflow()
    {
        var text = new string('[', 100_000) + new string(']', 100_000);
        var error = OnlyError(ScenarioLoader.Parse(text, "deep.json"));
        Assert.Equal(("deep.json", 1, 65), (error.File, error.Line, error.Column));
        Assert.Contains("nested more than 64 deep", error.Message);
        Assert.Contains("--limit nesting=N", error.Message);
    }

    [Fact]
    public void Nesting_within_the_limit_loads_and_the_limit_can_be_raised()
    {
        // 70 levels under an unknown field: too deep by default, an ordinary unknown-field error with nesting=100.
        var text = "name: x\nextra: " + new string('[', 70) + new string(']', 70) + "\naccounts: [ { id: a, clusters: [" + Cluster + "] } ]\n";
        Assert.Contains("--limit nesting=N", OnlyError(ScenarioLoader.Parse(text, "s.yaml")).Message);
        var raised = ScenarioLimits.Default.With(["nesting=100"], out _)!;
        Assert.Contains("unknown field 'extra'", OnlyError(ScenarioLoader.Parse(text, "s.yaml", raised)).Message);
    }

    /// <summary>Accounts × clusters × services through anchors, each level ten times the one below.</summary>
    private static string Laughs(int levels, int accounts)
    {
        var s = new StringBuilder("name: laughs\nduration: 1h\nx0: &c0 ").Append(Cluster.ReplaceLineEndings(" ")).Append('\n');
        for (var i = 1; i <= levels; i++)
        {
            s.Append($"x{i}: &c{i} [").Append(string.Join(", ", Enumerable.Repeat($"*c{i - 1}", 10))).Append("]\n");
        }
        s.Append("accounts:\n");
        for (var a = 0; a < accounts; a++)
        {
            s.Append($"  - {{ id: a{a}, clusters: *c{levels} }}\n");
        }
        return s.ToString();
    }

    [Fact]
    public void Billion_laughs_of_aliases_stop_at_the_expansion_limit()
    {
        var text = Laughs(levels: 11, accounts: 60);
        Assert.InRange(text.Length, 1000, 9 * 1024);
        var error = OnlyError(ScenarioLoader.Parse(text, "laughs.yaml"));
        Assert.Contains("more than 1,000,000 values once its aliases are expanded", error.Message);
        Assert.Contains("--limit expansion=N", error.Message);
        Assert.True(error.Line > 1);
    }

    [Fact]
    public void An_alias_inside_the_node_it_names_is_refused()
    {
        var error = OnlyError(ScenarioLoader.Parse("name: r\naccounts: &a [ { id: x, clusters: *a } ]\n", "r.yaml"));
        Assert.Equal((2, 35), (error.Line, error.Column));
        Assert.Contains("recursive alias", error.Message);
    }

    /// <summary>
    /// The expansion count is exact: a document of nested anchors whose fully expanded size is N loads under a
    /// limit of N and is refused under a limit of N - 1.
    /// </summary>
    [Fact]
    public void The_expansion_limit_counts_every_value_of_the_expanded_document()
    {
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 5], Gen.Int[1, 4]).Sample((levels, fanout, leaves) =>
        {
            // name: x / l0: &l0 [1, .., leaves] / l1: &l1 [*l0 x fanout] / ... ; unknown fields still count.
            var s = new StringBuilder("name: x\n");
            long size = 1 + 2; // the root mapping, and name's key and value
            s.Append("l0: &l0 [").Append(string.Join(", ", Enumerable.Range(1, leaves))).Append("]\n");
            long level = 1 + leaves;
            size += 1 + level;
            for (var i = 1; i <= levels; i++)
            {
                s.Append($"l{i}: &l{i} [").Append(string.Join(", ", Enumerable.Repeat($"*l{i - 1}", fanout))).Append("]\n");
                level = 1 + fanout * level;
                size += 1 + level;
            }
            var text = s.ToString();
            var at = ScenarioLoader.Parse(text, "a.yaml", ScenarioLimits.Default with { Expansion = size });
            Assert.DoesNotContain(at.Errors, e => e.Message.Contains("aliases are expanded"));
            var below = ScenarioLoader.Parse(text, "a.yaml", ScenarioLimits.Default with { Expansion = size - 1 });
            Assert.Contains("--limit expansion=N", OnlyError(below).Message);
        });
    }

    [Fact]
    public void A_450_byte_generator_of_100_million_clusters_stops_before_making_any()
    {
        var text = $"""
            name: tenants
            duration: 1h
            generators:
              - tenants:
                  count: 100000
                  clustersPerAccount: 1000
                  cluster: {Template}
            """;
        Assert.InRange(text.Length, 300, 600);
        var error = OnlyError(ScenarioLoader.Parse(text, "t.yaml"));
        Assert.Equal((5, 14, "generators[0].tenants.count"), (error.Line, error.Column, error.Field));
        Assert.Contains("100,000 tenants × 1,000 clusters", error.Message);
        Assert.Contains("limit 200,000; raise it with --limit entities=N", error.Message);
    }

    [Fact]
    public void Generated_entities_are_counted_as_they_are_made_and_the_limit_can_be_raised()
    {
        // 50 tenants × 2 clusters, each cluster 1 + 1 capacity provider + 3 task definitions + 3 services: 850 entities.
        var text = $"""
            name: tenants
            duration: 1h
            generators:
              - tenants:
                  count: 50
                  clustersPerAccount: 2
                  cluster: {Template}
                  services:
                    count: 2
                    desiredCount: 1
                    sizes: [ {"{"} cpu: 256, memory: 512 {"}"} ]
            """;
        Assert.True(ScenarioLoader.Parse(text, "t.yaml", ScenarioLimits.Default with { Entities = 850 }).Ok);
        var error = OnlyError(ScenarioLoader.Parse(text, "t.yaml", ScenarioLimits.Default with { Entities = 849 }));
        Assert.Contains("more than 849 accounts, clusters", error.Message);
        Assert.Contains("--limit entities=N", error.Message);
    }

    [Fact]
    public void Tasks_asked_for_by_services_updates_and_run_task_are_bounded()
    {
        var text = $"""
            name: tasks
            duration: 1h
            accounts: [ {"{"} id: a, clusters: [ {Cluster.ReplaceLineEndings(" ")} ] {"}"} ]
            timeline:
              - {"{"} at: 1m, updateService: {"{"} account: a, cluster: c, service: s, desiredCount: 3000000 {"}"} {"}"}
              - {"{"} at: 2m, updateService: {"{"} account: a, cluster: c, service: s, desiredCount: 10 {"}"} {"}"}
              - {"{"} at: 3m, runTask: {"{"} account: a, cluster: c, taskDefinition: t, count: 10, capacityProvider: f {"}"} {"}"}
            """;
        Assert.True(ScenarioLoader.Parse(text, "t.yaml", ScenarioLimits.Default with { Tasks = 3_000_010 }).Ok);
        var error = OnlyError(ScenarioLoader.Parse(text, "t.yaml", ScenarioLimits.Default with { Tasks = 3_000_009 }));
        Assert.Contains("asks for 3,000,010 tasks (3,000,000 as services' largest desired counts, 10 by RunTask)", error.Message);
        Assert.Contains("--limit tasks=N", error.Message);
    }

    [Fact]
    public void Generated_timeline_entries_are_bounded()
    {
        var text = $"""
            name: arrivals
            duration: 30d
            accounts: [ {"{"} id: a, clusters: [ {Cluster.ReplaceLineEndings(" ")} ] {"}"} ]
            generators:
              - arrivals: {"{"} account: a, cluster: c, taskDefinition: t, capacityProvider: f, process: poisson, ratePerHour: 10000000 {"}"}
            """;
        var error = OnlyError(ScenarioLoader.Parse(text, "a.yaml"));
        Assert.Equal("generators", error.Field);
        Assert.Contains("more than 1,000,000 timeline entries", error.Message);
        Assert.Contains("--limit timeline=N", error.Message);
    }

    [Fact]
    public void Limit_settings_are_checked()
    {
        Assert.Equal(7, ScenarioLimits.Default.With(["tasks=7"], out _)!.Tasks);
        Assert.Null(ScenarioLimits.Default.With(["task=7"], out var unknown));
        Assert.Contains("unknown limit 'task' (did you mean 'tasks'?)", unknown);
        Assert.Null(ScenarioLimits.Default.With(["tasks=many"], out var malformed));
        Assert.Contains("expected tasks=N", malformed);
        Assert.Null(ScenarioLimits.Default.With(["nesting=100000"], out _));
    }

    [Fact]
    public void A_directory_given_as_the_scenario_is_said_to_be_a_directory()
    {
        using var folder = new TempFolder();
        var error = OnlyError(ScenarioLoader.Load(folder.Path));
        Assert.Contains("is a directory", error.Message);
    }
}
