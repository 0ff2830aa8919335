using System.Text.Json;

namespace Scheduler.Client.Tests.Live;

/// <summary>
/// `serve` as its own process, driven by the unmodified AWS CLI (`aws ecs ... --endpoint-url`), then stopped with
/// SIGTERM; the recorded session is replayed with `simulate` and must give the same event log.
/// </summary>
public sealed class LiveCliTests : IDisposable
{
    private const string Acme = "111111111111";

    private const string ScenarioText = """
        name: live-e2e
        seed: 3
        until: settled
        accounts:
          - id: "111111111111"
            credentials: { accessKeyId: AKIAACMETEST0000001, secretAccessKey: acme-test-secret-0000000000000000000001 }
            clusters:
              - name: prod
                capacityProviders:
                  - { name: FARGATE, type: FARGATE }
                  - { name: mi, type: MANAGED_INSTANCES }
                taskDefinitions:
                  - { family: web, cpu: 256, memory: 512, containers: [ { name: app, image: acme/web:1, cpu: 256, memory: 512 } ] }
                services:
                  - { name: web, taskDefinition: web, desiredCount: 2, capacityProvider: FARGATE }
          - id: initech
            credentials: { accessKeyId: AKIAINITECHTEST0001, secretAccessKey: initech-test-secret-000000000000000001 }
            limits:
              runTask: { burst: 2, perSecond: 0.0001 }
              fargateOnDemand: { burst: 3, perSecond: 0.0001 }
            clusters:
              - name: jobs
                capacityProviders: [ { name: FARGATE, type: FARGATE } ]
                taskDefinitions:
                  - { family: job, cpu: 256, memory: 512, containers: [ { name: job, image: initech/job:1, cpu: 256, memory: 512 } ] }
        """;

    private const string TaskDefinitionJson = """
        {"family": "api", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
         "containerDefinitions": [{"name": "api", "image": "acme/api:3", "essential": true, "portMappings": [{"containerPort": 8080}]}]}
        """;

    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-live-").FullName;
    private ServeProcess? _serve;

    public void Dispose()
    {
        _serve?.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private (int Exit, string Out, string Err) Aws(string key, string secret, params string[] args) => _serve!.Aws("ecs", key, secret, args);

    private (int Exit, string Out, string Err) AsAcme(params string[] args) => Aws("AKIAACMETEST0000001", "acme-test-secret-0000000000000000000001", args);

    private (int Exit, string Out, string Err) AsInitech(params string[] args) => Aws("AKIAINITECHTEST0001", "initech-test-secret-000000000000000001", args);

    private static JsonElement Ok((int Exit, string Out, string Err) r) => ServeProcess.Ok(r);

    private static void Fails((int Exit, string Out, string Err) r, string errorCode) => ServeProcess.Fails(r, errorCode);

    [AwsFact]
    public async Task The_AWS_CLI_drives_clusters_services_and_tasks_and_the_recorded_session_replays()
    {
        var scenario = Path.Combine(_work, "live.yaml");
        await File.WriteAllTextAsync(scenario, ScenarioText);
        var record = Path.Combine(_work, "recorded.yaml");
        var outDir = Path.Combine(_work, "live");
        _serve = ServeProcess.Start(_work, scenario, outDir, record);

        // Clusters: create, describe (with a missing one), list.
        var created = Ok(AsAcme("create-cluster", "--cluster-name", "staging", "--capacity-providers", "FARGATE"));
        Assert.Equal($"arn:aws:ecs:us-east-1:{Acme}:cluster/staging", created.GetProperty("cluster").GetProperty("clusterArn").GetString());
        var described = Ok(AsAcme("describe-clusters", "--clusters", "staging", "prod", "nope"));
        Assert.Equal(["staging", "prod"], described.GetProperty("clusters").EnumerateArray().Select(c => c.GetProperty("clusterName").GetString()));
        Assert.Equal("MISSING", described.GetProperty("failures")[0].GetProperty("reason").GetString());

        // A task definition from JSON, and a service on it.
        var tdFile = Path.Combine(_work, "td.json");
        await File.WriteAllTextAsync(tdFile, TaskDefinitionJson);
        var td = Ok(AsAcme("register-task-definition", "--cli-input-json", $"file://{tdFile}")).GetProperty("taskDefinition");
        // More containers than ECS allows in one task definition: refused as ECS refuses it, nothing registered.
        var elevenFile = Path.Combine(_work, "eleven.json");
        await File.WriteAllTextAsync(elevenFile, JsonSerializer.Serialize(new
        {
            family = "eleven", cpu = "256", memory = "512",
            containerDefinitions = Enumerable.Range(0, 11).Select(i => new { name = $"c{i}", image = "acme/c:1", essential = true }),
        }));
        var eleven = AsAcme("register-task-definition", "--cli-input-json", $"file://{elevenFile}");
        Fails(eleven, "ClientException");
        Assert.Contains("containerDefinitions", eleven.Err);
        var arns = Ok(AsAcme("list-task-definitions")).GetProperty("taskDefinitionArns").EnumerateArray().Select(a => a.GetString()!).ToList();
        Assert.Contains(arns, a => a.EndsWith("/api:1", StringComparison.Ordinal));
        Assert.DoesNotContain(arns, a => a.Contains("/eleven:", StringComparison.Ordinal));
        Assert.Equal($"arn:aws:ecs:us-east-1:{Acme}:task-definition/api:1", td.GetProperty("taskDefinitionArn").GetString());
        var service = Ok(AsAcme("create-service", "--cluster", "staging", "--service-name", "api", "--task-definition", "api",
            "--desired-count", "2", "--launch-type", "FARGATE",
            "--network-configuration", "awsvpcConfiguration={subnets=[subnet-1],assignPublicIp=DISABLED}")).GetProperty("service");
        Assert.Equal(("ACTIVE", 2), (service.GetProperty("status").GetString(), service.GetProperty("desiredCount").GetInt32()));
        // A service may not ask for more tasks than a scenario file may: the call is refused and changes nothing.
        var huge = AsAcme("update-service", "--cluster", "staging", "--service", "api", "--desired-count", "5000001");
        Fails(huge, "InvalidParameterException");
        Assert.Contains("raise it with --limit tasks=N", huge.Err);
        Assert.Equal(2, Ok(AsAcme("describe-services", "--cluster", "staging", "--services", "api")).GetProperty("services")[0].GetProperty("desiredCount").GetInt32());

        // RunTask: tasks come back PROVISIONING; more than 10 is refused.
        var run = Ok(AsAcme("run-task", "--cluster", "staging", "--task-definition", "api", "--count", "3", "--launch-type", "FARGATE"));
        var tasks = run.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("taskArn").GetString()!).ToList();
        Assert.Equal(3, tasks.Count);
        Assert.All(tasks, t => Assert.StartsWith($"arn:aws:ecs:us-east-1:{Acme}:task/staging/", t));
        Assert.All(run.GetProperty("tasks").EnumerateArray(), t => Assert.Equal("PROVISIONING", t.GetProperty("lastStatus").GetString()));
        Fails(AsAcme("run-task", "--cluster", "staging", "--task-definition", "api", "--count", "11", "--launch-type", "FARGATE"), "InvalidParameterException");

        // The account's buckets: Fargate launches over its bucket are failures; calls over the RunTask bucket are throttled.
        var partial = Ok(AsInitech("run-task", "--cluster", "jobs", "--task-definition", "job", "--count", "5", "--launch-type", "FARGATE"));
        Assert.Equal((3, 2), (partial.GetProperty("tasks").GetArrayLength(), partial.GetProperty("failures").GetArrayLength()));
        Ok(AsInitech("run-task", "--cluster", "jobs", "--task-definition", "job", "--launch-type", "FARGATE"));
        Fails(AsInitech("run-task", "--cluster", "jobs", "--task-definition", "job", "--launch-type", "FARGATE"), "ThrottlingException");

        // Credentials: a wrong secret, an unknown key.
        Fails(Aws("AKIAACMETEST0000001", "wrong-secret", "list-clusters"), "InvalidSignatureException");
        Fails(Aws("AKIAUNKNOWN00000001", "whatever", "list-clusters"), "UnrecognizedClientException");

        // Tenant isolation: another account's cluster is not found by name, and refused by ARN.
        Fails(AsInitech("describe-services", "--cluster", "staging", "--services", "api"), "ClusterNotFoundException");
        Fails(AsInitech("describe-clusters", "--clusters", $"arn:aws:ecs:us-east-1:{Acme}:cluster/staging"), "AccessDeniedException");
        Fails(AsInitech("stop-task", "--cluster", $"arn:aws:ecs:us-east-1:{Acme}:cluster/staging", "--task", tasks[0]), "AccessDeniedException");
        Assert.Equal(["jobs"], Ok(AsInitech("list-clusters")).GetProperty("clusterArns").EnumerateArray().Select(a => a.GetString()!.Split('/')[1]));

        // Waiters read the standard fields.
        var waitTasks = AsAcme("wait", "tasks-running", "--cluster", "staging", "--tasks", tasks[0]);
        Assert.True(waitTasks.Exit == 0, waitTasks.Err);
        var running = Ok(AsAcme("describe-tasks", "--cluster", "staging", "--tasks", tasks[0])).GetProperty("tasks")[0];
        Assert.Equal(("RUNNING", "FARGATE"), (running.GetProperty("lastStatus").GetString(), running.GetProperty("launchType").GetString()));
        var waitStable = AsAcme("wait", "services-stable", "--cluster", "staging", "--services", "api");
        Assert.True(waitStable.Exit == 0, waitStable.Err);
        var stable = Ok(AsAcme("describe-services", "--cluster", "staging", "--services", "api")).GetProperty("services")[0];
        Assert.Equal((2, 2), (stable.GetProperty("runningCount").GetInt32(), stable.GetProperty("desiredCount").GetInt32()));
        // The service's events, newest first, as ECS words them: the steady state after the tasks it started.
        var history = stable.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("message").GetString()!).ToList();
        Assert.Equal("(service api) has reached a steady state.", history[0]);
        Assert.Contains(history, m => m.StartsWith("(service api) has started ", StringComparison.Ordinal));
        // STATISTICS split the cluster's counts by launch kind; everything in this cluster runs on Fargate.
        var withStatistics = Ok(AsAcme("describe-clusters", "--clusters", "staging", "--include", "STATISTICS")).GetProperty("clusters")[0];
        var figures = withStatistics.GetProperty("statistics").EnumerateArray()
            .ToDictionary(f => f.GetProperty("name").GetString()!, f => int.Parse(f.GetProperty("value").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(withStatistics.GetProperty("runningTasksCount").GetInt32(), figures["runningFargateTasksCount"] + figures["runningEC2TasksCount"] + figures["runningExternalTasksCount"]);
        Assert.True(figures["runningFargateTasksCount"] >= 2, string.Join(", ", figures));
        Assert.Equal(withStatistics.GetProperty("activeServicesCount").GetInt32(), figures["activeFargateServiceCount"]);

        var stopped = Ok(AsAcme("stop-task", "--cluster", "staging", "--task", tasks[1], "--reason", "done")).GetProperty("task");
        Assert.Equal("STOPPED", stopped.GetProperty("desiredStatus").GetString());

        // SIGTERM: the session ends cleanly, writes its files, and the recording replays to the same log.
        Assert.Equal(0, _serve.Stop());
        var replay = Path.Combine(_work, "replay");
        var (exit, output) = await CliHarness.RunInProcess("simulate", record, "--out", replay);
        Assert.True(exit == 0, output);
        var live = await File.ReadAllBytesAsync(Path.Combine(outDir, "events.jsonl"));
        Assert.True(live.Length > 0);
        Assert.Equal(live, await File.ReadAllBytesAsync(Path.Combine(replay, "events.jsonl")));
        Assert.True(File.Exists(Path.Combine(outDir, "summary.json")));
        var log = await File.ReadAllTextAsync(Path.Combine(outDir, "events.jsonl"));
        Assert.Contains(tasks[1][(tasks[1].LastIndexOf('/') + 1)..], log);
        Assert.Contains("\"reason\":\"done\"", log);
    }
}
