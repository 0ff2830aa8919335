using Scheduler.Client.Tests.Distributed;
using static Scheduler.Client.Tests.Live.ServeProcess;

namespace Scheduler.Client.Tests.Live;

/// <summary>
/// `serve --connect`: the live API in front of a silo process (the development silo on the memory store) instead of an
/// embedded silo. The AWS CLI runs a task there, waits for it to run, and the session's log holds what the silo did.
/// </summary>
public sealed class ServeConnectTests : IDisposable
{
    private const string ScenarioText = """
        name: live-connect
        seed: 8
        until: settled
        accounts:
          - id: "333333333333"
            credentials: { accessKeyId: AKIACONNECTTEST0001, secretAccessKey: connect-test-secret-0000000000000000001 }
            clusters:
              - name: prod
                capacityProviders: [ { name: FARGATE, type: FARGATE } ]
                taskDefinitions:
                  - { family: web, cpu: 256, memory: 512, containers: [ { name: app, image: acme/web:1, cpu: 256, memory: 512 } ] }
        """;

    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-connect-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [AwsFact]
    public async Task The_AWS_CLI_runs_a_task_on_a_silo_process_through_serve_connect()
    {
        var scenario = Path.Combine(_work, "connect.yaml");
        await File.WriteAllTextAsync(scenario, ScenarioText);
        var gateway = TestPorts.Free();
        var clusterId = $"serve-{Guid.NewGuid():N}";
        using var silo = new ExternalProcess("silo", "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "Scheduler.Silo.dll"), "--store", "memory", "--cluster-id", clusterId,
             "--silo-port", TestPorts.Free().ToString(), "--gateway-port", gateway.ToString(), "--Logging:LogLevel:Default", "Warning"]);
        await ExternalProcesses.WaitForPortAsync(gateway, silo, TimeSpan.FromSeconds(120));

        var outDir = Path.Combine(_work, "live");
        using var serve = ServeProcess.Start(_work, scenario, outDir, Path.Combine(_work, "recorded.yaml"), 20,
            "--connect", $"memory={gateway}", "--cluster-id", clusterId);
        (int, string, string) Aws(params string[] args) =>
            serve.Aws("ecs", "AKIACONNECTTEST0001", "connect-test-secret-0000000000000000001", args);
        var run = Ok(Aws("run-task", "--cluster", "prod", "--task-definition", "web", "--launch-type", "FARGATE"));
        var task = run.GetProperty("tasks")[0].GetProperty("taskArn").GetString()!;
        var wait = Aws("wait", "tasks-running", "--cluster", "prod", "--tasks", task);
        Assert.True(wait.Item1 == 0, wait.Item3);
        Assert.Equal(0, serve.Stop());

        // The silo ran it: its events came back to the session's log.
        var log = await File.ReadAllTextAsync(Path.Combine(outDir, "events.jsonl"));
        var id = task[(task.LastIndexOf('/') + 1)..];
        Assert.Contains($"\"task\":\"{id}\",\"state\":\"RUNNING\"", log);
        Assert.False(silo.Exited, silo.Output);
    }
}
