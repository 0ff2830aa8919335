using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Scenarios;

public sealed class ScenarioLoaderErrorTests
{
    private static IReadOnlyList<ScenarioError> Errors(string text, string fileName = "bad.yaml")
    {
        var result = ScenarioLoader.Parse(text, fileName);
        Assert.False(result.Ok);
        Assert.Null(result.Scenario);
        return result.Errors;
    }

    private static void AssertErrors(IReadOnlyList<ScenarioError> actual, params (int Line, int Column, string Field, string MessagePart)[] expected)
    {
        Assert.Equal(expected.Select(e => (e.Line, e.Column, e.Field)), actual.Select(e => (e.Line, e.Column, e.Field)));
        foreach (var (e, a) in expected.Zip(actual))
        {
            Assert.Contains(e.MessagePart, a.Message);
        }
    }

    [Fact]
    public void Several_errors_are_reported_at_once_with_line_column_and_field()
    {
        var errors = Errors("""
            name: broken
            duration: 2x
            accounts:
              - id: acme
                clusters:
                  - name: prod
                    capacityProviders:
                      - { name: fargate, type: FARGATE }
                    taskDefinitions:
                      - family: web
                        cpu: 256
                        memory: 512
                        containers:
                          - name: app
                            image: web
                            memoryReservation: 768
                            memory: 512
                            imageSize: 10
                    services:
                      - name: web
                        taskDefinition: wbe
                        desiredCount: 2
                        capacityProvider: fargate
            """);
        const string td = "accounts[0].clusters[0].taskDefinitions[0]";
        AssertErrors(errors,
            (2, 11, "duration", "unknown unit 'x'"),
            (12, 21, $"{td}.memory", "the containers reserve 768 MiB, above the task's 512 MiB"),
            (16, 36, $"{td}.containers[0].memoryReservation", "memoryReservation (768 MiB) is above the hard limit memory (512 MiB)"),
            (18, 17, $"{td}.containers[0].imageSize", "unknown field 'imageSize' (did you mean 'imageSizeMiB'?)"),
            (21, 29, "accounts[0].clusters[0].services[0].taskDefinition", "unknown task definition 'wbe' in cluster 'prod' (did you mean 'web'?)"));
        Assert.Equal("bad.yaml:21:29: accounts[0].clusters[0].services[0].taskDefinition: unknown task definition 'wbe' in cluster 'prod' (did you mean 'web'?)",
            errors[4].ToString());
    }

    [Fact]
    public void Json_errors_carry_json_line_numbers()
    {
        var errors = Errors("""
            {
              "name": "j",
              "accounts": [
                {
                  "id": "a",
                  "clusters": [
                    {
                      "name": "c",
                      "capacityProviders": [ { "name": "f", "type": "FARGATE" } ],
                      "taskDefinitions": [
                        { "family": "t", "cpu": 256, "memory": 512,
                          "containers": [ { "name": "x", "image": "y", "essential": "yes" } ] }
                      ],
                      "servces": []
                    }
                  ]
                }
              ],
              "timeline": [ { "at": "-5m", "releaseAmi": { "version": "2" } } ]
            }
            """, "bad.json");
        AssertErrors(errors,
            (12, 73, "accounts[0].clusters[0].taskDefinitions[0].containers[0].essential", "expected true or false"),
            (14, 11, "accounts[0].clusters[0].servces", "unknown field 'servces' (did you mean 'services'?)"),
            (19, 25, "timeline[0].at", "negative duration '-5m' is not allowed"));
    }

    [Fact]
    public void References_sizes_and_ranges_are_validated()
    {
        var errors = Errors("""
            name: refs
            duration: 1h
            tick: 0s
            accounts:
              - id: acme
                clusters:
                  - name: prod
                    zones: [a, b]
                    capacityProviders:
                      - { name: fargate, type: FARGATE }
                      - { name: mi, type: MANAGED_INSTANCES }
                      - { name: mi, type: EC2, instanceTypes: [m6i.larg] }
                    taskDefinitions:
                      - { family: odd, cpu: 512, memory: 8192, containers: [ { name: c, image: i } ] }
                      - { family: huge, cpu: 4096, memory: 2000000, containers: [ { name: c, image: i } ] }
                      - { family: gpu, memory: 1024, containers: [ { name: c, image: i, gpus: 1 } ] }
                    services:
                      - { name: s1, taskDefinition: odd, desiredCount: -1, capacityProvider: fargate }
                      - { name: s2, taskDefinition: "huge:1", desiredCount: 1, capacityProvider: mi }
                      - { name: s3, taskDefinition: "gpu:2", desiredCount: 1, capacityProvider: mi,
                          deployment: { minimumHealthyPercent: 120, maximumPercent: 50 } }
                      - { name: s1, taskDefinition: gpu, desiredCount: 1, capacityProvider: ec3 }
              - id: other
                clusters:
                  - name: dev
                    capacityProviders: [ { name: fargate, type: FARGATE } ]
            timeline:
              - { at: 1m, runTask: { account: acme, cluster: dev, taskDefinition: odd } }
              - { at: 2h, runTask: { account: acme, cluster: prod, taskDefinition: gpu, count: 11, capacityProvider: mi } }
              - { at: 3m, failZone: { account: acme, cluster: prod, zone: c, for: 1h } }
              - { at: 4m, updateService: { account: acme, cluster: prod, service: s9 } }
              - { at: 5m, drainInstance: { account: acmee, cluster: prod, instance: any } }
              - { at: 6m, runTsk: { account: acme } }
            """);
        const string c = "accounts[0].clusters[0]";
        AssertErrors(errors,
            (3, 7, "tick", "must be greater than zero"),
            (12, 21, $"{c}.capacityProviders[2].name", "cluster 'prod' has two capacity providers named 'mi'"),
            (12, 52, $"{c}.capacityProviders[2].instanceTypes[0]", "unknown instance type 'm6i.larg' (did you mean 'm6i.large'?)"),
            (18, 60, $"{c}.services[0].desiredCount", "-1 is out of range: must be at least 0"),
            (18, 82, $"{c}.services[0].capacityProvider", "task definition 'odd:1' (cpu 512, memory 8192) is not a Fargate task size: with cpu 512, memory must be 1024 to 4096 in steps of 1024"),
            (19, 86, $"{c}.services[1].capacityProvider", "task definition 'huge:1' needs 4096 cpu units, 2000000 MiB and 0 GPUs, more than any instance type capacity provider 'mi' may launch"),
            (20, 41, $"{c}.services[2].taskDefinition", "task definition 'gpu' has no revision 2 (it has 1)"),
            (21, 52, $"{c}.services[2].deployment.minimumHealthyPercent", "120 is out of range: must be between 0 and 100"),
            (21, 73, $"{c}.services[2].deployment.maximumPercent", "50 is out of range: must be between 100 and 1000"),
            (22, 21, $"{c}.services[3].name", "cluster 'prod' has two services named 's1'"),
            (22, 81, $"{c}.services[3].capacityProvider", "unknown capacity provider 'ec3' in cluster 'prod'"),
            (28, 50, "timeline[0].runTask.cluster", "cluster 'dev' belongs to account 'other', not 'acme'"),
            (29, 84, "timeline[1].runTask.count", "11 is out of range: must be between 1 and 10"),
            (29, 106, "timeline[1].runTask.capacityProvider", "task definition 'gpu:1' needs 0 cpu units, 1024 MiB and 1 GPUs, more than any instance type capacity provider 'mi' may launch"),
            (30, 63, "timeline[2].failZone.zone", "cluster 'prod' has no zone 'c' (its zones: a, b)"),
            (31, 30, "timeline[3].updateService", "updateService changes nothing"),
            (31, 71, "timeline[3].updateService.service", "unknown service 's9' in cluster 'prod'"),
            (32, 41, "timeline[4].drainInstance.account", "unknown account 'acmee' (did you mean 'acme'?)"),
            (33, 5, "timeline[5]", "a timeline entry needs one action"),
            (33, 15, "timeline[5].runTsk", "unknown field 'runTsk' (did you mean 'runTask'?)"));
    }

    [Fact]
    public void A_yaml_syntax_error_gives_its_line_and_column()
    {
        var errors = Errors("""
            name: x
            accounts:
              - id: "acme
                clusters: []
            """);
        var error = Assert.Single(errors);
        Assert.Equal(("bad.yaml", 3, 9, ""), (error.File, error.Line, error.Column, error.Field));
        Assert.StartsWith("syntax error: ", error.Message);
    }

    [Fact]
    public void A_json_syntax_error_gives_its_line_and_column()
    {
        var errors = Errors("{\n  \"name\": \"x\",\n  \"accounts\": [ { \"id\": \"a\" }\n}\n", "bad.json");
        var error = Assert.Single(errors);
        Assert.Equal((4, 1), (error.Line, error.Column));
        Assert.StartsWith("syntax error: ", error.Message);
    }

    [Theory]
    [InlineData("duration: 1d\ntick: 2d", "2d is longer than the run (1d)")]
    [InlineData("tick: 36h", "36h is longer than the run (1d)")]
    public void A_tick_longer_than_the_run_is_an_error(string timing, string message)
    {
        var errors = Errors($$"""
            name: x
            {{timing}}
            accounts:
              - id: a
                clusters: [ { name: c, capacityProviders: [ { name: f, type: FARGATE } ] } ]
            """);
        var error = Assert.Single(errors);
        Assert.Equal("tick", error.Field);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_tick_as_long_as_the_run_is_accepted()
    {
        var result = ScenarioLoader.Parse("""
            name: x
            duration: 1h
            tick: 60m
            accounts:
              - id: a
                clusters: [ { name: c, capacityProviders: [ { name: f, type: FARGATE } ] } ]
            """, "ok.yaml");
        Assert.True(result.Ok, string.Join("; ", result.Errors.Select(e => e.Message)));
    }

    [Fact]
    public void A_missing_file_is_an_error_not_an_exception()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N"), "scenario.yaml");
        var result = ScenarioLoader.Load(path);
        var error = Assert.Single(result.Errors);
        Assert.Equal((path, 1, 1, ""), (error.File, error.Line, error.Column, error.Field));
        Assert.StartsWith("cannot read the scenario: ", error.Message);
        Assert.False(result.Ok);
    }

    [Fact]
    public void Required_fields_are_reported_where_their_mapping_starts()
    {
        var errors = Errors("""
            seed: x
            accounts:
              - clusters:
                  - { capacityProviders: [ { name: p } ] }
            """);
        AssertErrors(errors,
            (1, 1, "name", "missing required field 'name'"),
            (1, 7, "seed", "'x' is not a whole number"),
            (3, 5, "accounts[0].id", "missing required field 'id'"),
            (4, 9, "accounts[0].clusters[0].name", "missing required field 'name'"),
            (4, 32, "accounts[0].clusters[0].capacityProviders[0].type", "missing required field 'type'"));
    }

    [Fact]
    public void Catalog_file_errors_are_reported_with_their_own_file_and_lines()
    {
        using var folder = new TempFolder();
        var catalog = folder.Write("types.json", """
            [
              { "name": "a1.large", "vcpu": 2, "memoryMiB": 4096 },
              { "name": "a1.large", "vcpu": 0, "memoryMiB": 4096, "price": 1 }
            ]
            """);
        var scenario = folder.Write("s.yaml", """
            name: s
            instanceCatalog: types.json
            accounts: [ { id: a } ]
            """);
        var result = ScenarioLoader.Load(scenario);
        Assert.False(result.Ok);
        Assert.Equal(
        [
            (scenario, 2, 18, "instanceCatalog"),
            (catalog, 3, 13, "[1].name"),
            (catalog, 3, 33, "[1].vcpu"),
            (catalog, 3, 55, "[1].price"),
        ], result.Errors.Select(e => (e.File, e.Line, e.Column, e.Field)));
        Assert.Equal("instance catalog 'types.json' has 3 error(s), listed below", result.Errors[0].Message);
        Assert.Equal("0 is out of range: must be at least 1", result.Errors[2].Message);
    }

    [Fact]
    public void A_missing_catalog_file_is_reported_at_the_field()
    {
        using var folder = new TempFolder();
        var scenario = folder.Write("s.yaml", "name: s\ninstanceCatalog: nope.yaml\naccounts: [ { id: a } ]\n");
        var error = Assert.Single(ScenarioLoader.Load(scenario).Errors);
        Assert.Equal((scenario, 2, 18, "instanceCatalog"), (error.File, error.Line, error.Column, error.Field));
        Assert.Equal($"instance catalog file '{Path.Combine(folder.Path, "nope.yaml")}' does not exist", error.Message);
    }

    [Fact]
    public void Fargate_needs_task_level_size_awsvpc_and_no_gpus()
    {
        var errors = Errors("""
            name: f
            accounts:
              - id: a
                clusters:
                  - name: c
                    capacityProviders: [ { name: spot, type: FARGATE_SPOT } ]
                    taskDefinitions:
                      - { family: t, networkMode: bridge, containers: [ { name: x, image: y, memory: 512, gpus: 1 } ] }
            timeline:
              - { at: 1m, runTask: { account: a, cluster: c, taskDefinition: t, capacityProvider: spot } }
            """);
        AssertErrors(errors,
            (10, 87, "timeline[0].runTask.capacityProvider", "task definition 't:1' runs on Fargate, which needs task-level cpu and memory"),
            (10, 87, "timeline[0].runTask.capacityProvider", "task definition 't:1' runs on Fargate, which needs networkMode awsvpc"),
            (10, 87, "timeline[0].runTask.capacityProvider", "task definition 't:1' asks for GPUs, which Fargate does not offer"));
    }

    [Fact]
    public void A_malformed_memberOf_expression_is_reported_at_its_line()
    {
        var errors = Errors("""
            name: constraints
            accounts:
              - id: acme
                clusters:
                  - name: prod
                    zones: [a]
                    capacityProviders:
                      - { name: mi, type: MANAGED_INSTANCES }
                    taskDefinitions:
                      - family: web
                        placementConstraints:
                          - { type: memberOf, expression: "ecs.instance-type == m5.large" }
                        containers:
                          - { name: app, image: web, cpu: 256, memory: 512 }
            """);
        var e = Assert.Single(errors);
        Assert.Equal(12, e.Line);
        Assert.EndsWith("placementConstraints[0].expression", e.Field);
        Assert.Contains("expected", e.Message);
    }

    [Theory]
    [InlineData("name: x\naccounts:\n\t- id: a\n", 3, 1, "tab")]
    [InlineData("name: &n x\nseed: 1\naccounts: *nope\n", 3, 11, "anchor 'nope'")]
    public void Syntax_errors_the_parser_places_at_the_start_are_found_in_the_text(string text, int line, int column, string part)
    {
        var e = Assert.Single(Errors(text));
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains(part, e.Message);
    }
}
