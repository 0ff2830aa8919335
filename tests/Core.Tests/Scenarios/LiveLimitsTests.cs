using CsCheck;
using Scheduler.Core.Scenarios;
using YamlDotNet.RepresentationModel;

namespace Scheduler.Core.Tests.Scenarios;

/// <summary>
/// What a live session's calls may create is held to the limits the scenario file is: zones per cluster, entities,
/// the tasks the services ask for at once; and a load keeps only the errors it prints, however many it finds.
/// </summary>
public sealed class LiveLimitsTests : IDisposable
{
    private const string Text = """
        name: live
        accounts:
          - id: acme
            clusters:
              - name: prod
                capacityProviders: [ { name: FARGATE, type: FARGATE } ]
                taskDefinitions:
                  - { family: web, cpu: 256, memory: 512, containers: [ { name: app, image: web:1, cpu: 256, memory: 512 } ] }
                services:
                  - { name: web, taskDefinition: web, desiredCount: 2 }
        """;

    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-live-limits-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private LiveScenario Open(ScenarioLimits? limits = null)
    {
        var path = Path.Combine(_work, "live.yaml");
        File.WriteAllText(path, Text);
        var live = LiveScenario.Open(path, limits);
        Assert.True(live.Loaded.Ok, string.Join("\n", live.Loaded.Errors));
        return live;
    }

    /// <summary>A live call's body as the API builds it: a YAML mapping parsed from flow text.</summary>
    private static YamlMappingNode Body(string flow)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(flow));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static string Zones(int n) => "[" + string.Join(", ", Enumerable.Range(0, n).Select(i => $"z{i}")) + "]";

    [Fact]
    public void A_created_cluster_gets_the_zone_checks_of_a_cluster_in_the_file()
    {
        var live = Open();
        var (tooMany, errors) = live.Parse("createCluster", Body($"{{ account: acme, name: wide, zones: {Zones(ScenarioParser.MaxZones + 1)} }}"));
        Assert.Null(tooMany);
        Assert.Contains($"{ScenarioParser.MaxZones + 1} zones are listed; a cluster spans at most {ScenarioParser.MaxZones}", Assert.Single(errors).Message);

        var (twice, twiceErrors) = live.Parse("createCluster", Body("{ account: acme, name: twice, zones: [a, b, a] }"));
        Assert.Null(twice);
        Assert.Contains("zone 'a' is listed twice", Assert.Single(twiceErrors).Message);
        var (none, noneErrors) = live.Parse("createCluster", Body("{ account: acme, name: none, zones: [] }"));
        Assert.Null(none);
        Assert.Contains("at least one zone", Assert.Single(noneErrors).Message);

        // At the cap it is a cluster, and the refused names were not taken.
        var (ok, okErrors) = live.Parse("createCluster", Body($"{{ account: acme, name: wide, zones: {Zones(ScenarioParser.MaxZones)} }}"));
        Assert.Empty(okErrors);
        Assert.Equal(ScenarioParser.MaxZones, Assert.IsType<CreateClusterAction>(ok).Cluster.Zones.Count);
    }

    [Fact]
    public void A_scenario_files_created_cluster_gets_the_same_zone_cap()
    {
        var text = Text + $"\ntimeline:\n  - {{ at: 1s, createCluster: {{ account: acme, name: wide, zones: {Zones(ScenarioParser.MaxZones + 1)} }} }}\n";
        var error = Assert.Single(ScenarioLoader.Parse(text, "t.yaml").Errors);
        Assert.Equal("timeline[0].createCluster.zones", error.Field);
        Assert.Contains("a cluster spans at most", error.Message);
    }

    [Fact]
    public void Services_created_and_scaled_by_calls_ask_for_no_more_tasks_at_once_than_the_tasks_limit()
    {
        // The file's service asks for 2 of the 10.
        var live = Open(ScenarioLimits.Default with { Tasks = 10 });
        var (created, errors) = live.Parse("createService", Body("{ account: acme, cluster: prod, service: { name: api, taskDefinition: web, desiredCount: 8 } }"));
        Assert.Empty(errors);
        Assert.IsType<CreateServiceAction>(created);

        var (over, overErrors) = live.Parse("updateService", Body("{ account: acme, cluster: prod, service: web, desiredCount: 3 }"));
        Assert.Null(over);
        var message = Assert.Single(overErrors).Message;
        Assert.Contains("would ask for 11 tasks at once", message);
        Assert.Contains("limit 10; raise it with --limit tasks=N", message);

        // Scaling one down makes room for the other; a refused service is not created, so its name stays free.
        var (tooBig, _) = live.Parse("createService", Body("{ account: acme, cluster: prod, service: { name: batch, taskDefinition: web, desiredCount: 1 } }"));
        Assert.Null(tooBig);
        Assert.IsType<UpdateServiceAction>(live.Parse("updateService", Body("{ account: acme, cluster: prod, service: api, desiredCount: 0 }")).Action);
        Assert.IsType<UpdateServiceAction>(live.Parse("updateService", Body("{ account: acme, cluster: prod, service: web, desiredCount: 9 }")).Action);
        Assert.IsType<CreateServiceAction>(live.Parse("createService", Body("{ account: acme, cluster: prod, service: { name: batch, taskDefinition: web, desiredCount: 1 } }")).Action);
    }

    [Fact]
    public void One_service_may_not_ask_for_more_tasks_than_the_limit_in_a_file_either()
    {
        var error = Assert.Single(ScenarioLoader.Parse(Text, "t.yaml", ScenarioLimits.Default with { Tasks = 1 }).Errors);
        Assert.Equal("accounts[0].clusters[0].services[0].desiredCount", error.Field);
        Assert.Contains("desiredCount 2 asks for more tasks than the scenario may (limit 1; raise it with --limit tasks=N)", error.Message);

        // A call gets the same error, naming the call's field.
        var (action, errors) = Open(ScenarioLimits.Default with { Tasks = 10 }).Parse("updateService", Body("{ account: acme, cluster: prod, service: web, desiredCount: 11 }"));
        Assert.Null(action);
        var callError = Assert.Single(errors);
        Assert.Equal("updateService.desiredCount", callError.Field);
        Assert.Equal("desiredCount 11 asks for more tasks than the scenario may (limit 10; raise it with --limit tasks=N)", callError.Message);
    }

    [Fact]
    public void Calls_create_no_more_entities_than_the_limit_and_the_session_goes_on()
    {
        // The file defines 5: account, cluster, provider, task definition, service.
        var live = Open(ScenarioLimits.Default with { Entities = 6 });
        Assert.IsType<CreateClusterAction>(live.Parse("createCluster", Body("{ account: acme, name: second }")).Action);
        var (third, errors) = live.Parse("createCluster", Body("{ account: acme, name: third }"));
        Assert.Null(third);
        Assert.Contains("--limit entities=N", Assert.Single(errors).Message);
        var (td, tdErrors) = live.Parse("registerTaskDefinition", Body(
            "{ account: acme, taskDefinition: { family: api, cpu: '256', memory: '512', containerDefinitions: [ { name: a, image: a, essential: true } ] } }"));
        Assert.Null(td);
        Assert.Contains("--limit entities=N", Assert.Single(tdErrors).Message);
        // Calls that create nothing still parse.
        Assert.IsType<UpdateServiceAction>(live.Parse("updateService", Body("{ account: acme, cluster: prod, service: web, desiredCount: 1 }")).Action);
    }

    [Fact]
    public void Calls_keep_the_per_call_bounds_of_ECS_and_Batch()
    {
        var live = Open();
        var containers = string.Join(", ", Enumerable.Range(0, ScenarioParser.MaxContainers + 1).Select(i => $"{{ name: c{i}, image: i, essential: true }}"));
        var (td, tdErrors) = live.Parse("registerTaskDefinition", Body($"{{ account: acme, taskDefinition: {{ family: wide, cpu: '256', memory: '512', containerDefinitions: [ {containers} ] }} }}"));
        Assert.Null(td);
        Assert.Contains(tdErrors, e => e.Field.EndsWith("containerDefinitions", StringComparison.Ordinal));

        var (run, runErrors) = live.Parse("runTask", Body("{ account: acme, cluster: prod, taskDefinition: web, count: 11 }"));
        Assert.Null(run);
        Assert.Equal("runTask.count", Assert.Single(runErrors).Field);
    }

    [Fact]
    public void A_timeline_that_creates_past_the_entities_limit_is_one_error()
    {
        var creations = string.Concat(Enumerable.Range(0, 4).Select(i => $"  - {{ at: 1s, createCluster: {{ account: acme, name: c{i} }} }}\n"));
        var text = Text + "\ntimeline:\n" + creations;
        Assert.True(ScenarioLoader.Parse(text, "t.yaml", ScenarioLimits.Default with { Entities = 9 }).Ok);
        var error = Assert.Single(ScenarioLoader.Parse(text, "t.yaml", ScenarioLimits.Default with { Entities = 8 }).Errors);
        Assert.Equal("timeline[3].createCluster", error.Field);
    }

    [Fact]
    public void A_scenario_name_with_a_control_character_is_refused_where_it_is()
    {
        var error = Assert.Single(ScenarioLoader.Parse(Text.Replace("name: live", "name: \"li\\nve\"", StringComparison.Ordinal), "t.yaml").Errors);
        Assert.Equal(("name", 1), (error.Field, error.Line));
        Assert.Contains("control character (U+000A at position 3)", error.Message);
        Assert.True(ScenarioLoader.Parse(Text.Replace("name: live", "name: \"live run\"", StringComparison.Ordinal), "t.yaml").Ok);
    }

    [Fact]
    public void A_load_keeps_the_errors_it_prints_and_counts_the_rest()
    {
        // Errors found in any order: the kept ones are the first in file order (line, column, then as found), all are counted.
        var error = Gen.Select(Gen.Int[1, 50], Gen.Int[1, 5]).Select((line, column) => new ScenarioError("f", line, column, "", $"{line}:{column}"));
        error.Array[0, 400].Sample(errors =>
        {
            var list = new ErrorList();
            list.AddRange(errors);
            var expected = errors.Select((e, i) => (e, i)).OrderBy(x => x.e.Line).ThenBy(x => x.e.Column).ThenBy(x => x.i)
                .Take(ErrorList.Kept).Select(x => x.e);
            return list.Count == errors.Length && list.Sorted().SequenceEqual(expected);
        });
    }

    [Fact]
    public void Errors_gathered_from_other_files_keep_the_first_ones_found()
    {
        var list = new ErrorList(inFileOrder: false);
        list.AddRange(Enumerable.Range(0, 250).Select(i => new ScenarioError("f", 250 - i, 1, "", $"{i}")));
        list.CountMore(5);
        Assert.Equal(255, list.Count);
        Assert.Equal(Enumerable.Range(0, ErrorList.Kept).Select(i => $"{i}"), list.Sorted().Select(e => e.Message));
    }
}
