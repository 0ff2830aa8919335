using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Scenarios;

public sealed class TaskDefinitionImportTests
{
    /// <summary>The shape of `aws ecs describe-task-definition --task-definition web:3` output.</summary>
    private const string Described = """
        {
            "taskDefinition": {
                "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
                "containerDefinitions": [
                    {
                        "name": "app",
                        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4",
                        "cpu": 256,
                        "memory": 1024,
                        "memoryReservation": 512,
                        "portMappings": [ { "containerPort": 8080, "hostPort": 8080, "protocol": "tcp" } ],
                        "essential": true,
                        "environment": [ { "name": "MODE", "value": "prod" } ],
                        "mountPoints": [],
                        "volumesFrom": [],
                        "stopTimeout": 45,
                        "healthCheck": { "command": [ "CMD-SHELL", "curl -f http://localhost:8080/ || exit 1" ],
                                         "interval": 10, "timeout": 5, "retries": 3, "startPeriod": 20 },
                        "logConfiguration": { "logDriver": "awslogs", "options": { "awslogs-group": "/ecs/web" } }
                    },
                    { "name": "gpu-worker", "image": "worker:2", "cpu": 256, "memoryReservation": 256, "essential": false,
                      "resourceRequirements": [ { "type": "GPU", "value": "1" } ] }
                ],
                "family": "web",
                "taskRoleArn": "arn:aws:iam::123456789012:role/web",
                "networkMode": "awsvpc",
                "revision": 3,
                "volumes": [],
                "status": "ACTIVE",
                "requiresAttributes": [ { "name": "com.amazonaws.ecs.capability.ecr-auth" } ],
                "placementConstraints": [],
                "compatibilities": [ "EC2", "FARGATE" ],
                "requiresCompatibilities": [ "EC2" ],
                "cpu": "1024",
                "memory": "2048",
                "registeredAt": "2026-01-02T10:00:00.000000+00:00",
                "registeredBy": "arn:aws:iam::123456789012:user/ops"
            },
            "tags": []
        }
        """;

    private static string ScenarioWith(string taskDefinitionItem) => $$"""
        name: imp
        accounts:
          - id: acme
            clusters:
              - name: prod
                capacityProviders: [ { name: gpu, type: MANAGED_INSTANCES, instanceRequirements: { gpus: { min: 1 } } } ]
                taskDefinitions:
                  - {{taskDefinitionItem}}
                services:
                  - { name: web, taskDefinition: "web:3", desiredCount: 2 }
        """;

    [Fact]
    public void Describe_task_definition_output_imports_into_the_scenario_model()
    {
        using var folder = new TempFolder();
        folder.Write("web.json", Described);
        var result = ScenarioLoader.Load(folder.Write("s.yaml", ScenarioWith("{ import: web.json, imageSizeMiB: 250 }")));
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var td = Assert.Single(result.Scenario!.Accounts[0].Clusters[0].TaskDefinitions);
        Assert.Equal(("web", 3, 1024, 2048, NetworkMode.Awsvpc, TimeSpan.FromSeconds(45)),
            (td.Family, td.Revision, td.Cpu, td.Memory, td.NetworkMode, td.StopTimeout));
        Assert.Equal(["app", "gpu-worker"], td.Containers.Select(c => c.Name));
        var app = td.Containers[0];
        Assert.Equal((256, 512, 1024, 250, true), (app.Cpu, app.MemoryReservation, app.Memory, app.ImageSizeMiB, app.Essential));
        Assert.Equal(new HealthCheckSpec(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(10), 1), app.HealthCheck);
        Assert.Equal(new PortMapping(8080, 8080), Assert.Single(app.PortMappings));
        Assert.Equal((1, false), (td.Containers[1].Gpus, td.Containers[1].Essential));
    }

    [Fact]
    public void The_bare_task_definition_object_imports_too_and_family_can_be_renamed()
    {
        using var folder = new TempFolder();
        var inner = Described[(Described.IndexOf("\"taskDefinition\": ", StringComparison.Ordinal) + 18)..Described.LastIndexOf(",\n    \"tags\"", StringComparison.Ordinal)];
        folder.Write("bare.json", inner);
        var result = ScenarioLoader.Load(folder.Write("s.yaml", ScenarioWith("{ import: bare.json }").Replace("web:3", "api:3")
            .Replace("import: bare.json", "import: bare.json, family: api")));
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal("api", result.Scenario!.Accounts[0].Clusters[0].TaskDefinitions[0].Family);
    }

    [Fact]
    public void Errors_inside_the_json_name_the_json_file_line_column_and_field()
    {
        using var folder = new TempFolder();
        var json = folder.Write("web.json", Described.Replace("\"memoryReservation\": 512", "\"memoryReservation\": 4096")
            .Replace("\"status\": \"ACTIVE\"", "\"statsu\": \"ACTIVE\""));
        var result = ScenarioLoader.Load(folder.Write("s.yaml", ScenarioWith("{ import: web.json }")));
        Assert.Equal(
        [
            (folder.Path + "/s.yaml", 8, 23, "accounts[0].clusters[0].taskDefinitions[0].import"),
            (json, 10, 38, "taskDefinition.containerDefinitions[0].memoryReservation"),
            (json, 29, 9, "taskDefinition.statsu"),
        ], result.Errors.Select(e => (e.File, e.Line, e.Column, e.Field)));
        Assert.Contains("has 2 error(s)", result.Errors[0].Message);
        Assert.Contains("did you mean 'status'", result.Errors[2].Message);
    }

    [Fact]
    public void A_missing_import_file_is_an_error_at_the_import_field()
    {
        using var folder = new TempFolder();
        var result = ScenarioLoader.Load(folder.Write("s.yaml", ScenarioWith("{ import: nope.json }")));
        var e = result.Errors[0];
        Assert.Equal((8, 23, "accounts[0].clusters[0].taskDefinitions[0].import"), (e.Line, e.Column, e.Field));
        Assert.Contains("cannot read task definition 'nope.json'", e.Message);
    }

    [Fact]
    public void An_import_that_is_not_json_is_said_to_be_not_json_where_the_json_reader_stopped()
    {
        using var folder = new TempFolder();
        var yaml = folder.Write("web.yaml", "family: web\ncontainerDefinitions:\n  - { name: app }\n");
        var result = ScenarioLoader.Load(folder.Write("s.yaml", ScenarioWith("{ import: web.yaml }")));
        Assert.Equal((8, 23, "accounts[0].clusters[0].taskDefinitions[0].import"), (result.Errors[0].Line, result.Errors[0].Column, result.Errors[0].Field));
        // 'fa' could start false: the JSON reader stops at the 'm' after it.
        var notJson = Assert.Single(result.Errors, e => e.File == yaml);
        Assert.Equal((1, 3, ""), (notJson.Line, notJson.Column, notJson.Field));
        Assert.Contains("is not JSON", notJson.Message);
        Assert.DoesNotContain("LineNumber", notJson.Message);

        var broken = folder.Write("broken.json", "{\n  \"family\": \"web\",\n  \"cpu\": 256,,\n}\n");
        result = ScenarioLoader.Load(folder.Write("s2.yaml", ScenarioWith("{ import: broken.json }")));
        var e = Assert.Single(result.Errors, e => e.File == broken);
        Assert.Equal((3, 14), (e.Line, e.Column)); // the second comma
        Assert.Contains("is not JSON", e.Message);
    }
}
