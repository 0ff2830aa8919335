using System.Text.Json;
using Scheduler.Client;

namespace Scheduler.Client.Tests;

/// <summary>End-to-end tests of the command line: the real program, real embedded silos, real files.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-cli-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string Repo(string relative) => RepoPaths.Of(relative);

    private static (int Exit, string Output) RunProcess(params string[] args) => CliHarness.RunProcess(args);

    private static Task<(int Exit, string Output)> RunInProcess(params string[] args) => CliHarness.RunInProcess(args);

    [Fact]
    public void Simulate_quickstart_as_a_process_writes_the_log_and_the_summary()
    {
        var outDir = Path.Combine(_work, "A");
        var (exit, output) = RunProcess("simulate", "scenarios/quickstart.yaml", "--out", outDir);
        Assert.True(exit == 0, output);
        Assert.Contains("tasks launched", output);
        var lines = File.ReadAllLines(Path.Combine(outDir, "events.jsonl"));
        Assert.True(lines.Length > 100);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var root = summary.RootElement;
        foreach (var key in new[] { "tasksLaunched", "tasksStoppedByReason", "unplaceable", "timeToRunning", "placementsByPhase",
                     "instancesLaunched", "replacementsByReason", "maxInstanceAgeDays", "minHealthyPercentDuringDrains", "oomKills",
                     "throttles", "instanceHours", "cost", "simulatedSeconds", "wallSeconds", "ticks", "events" })
        {
            Assert.True(root.TryGetProperty(key, out _), $"summary.json lacks {key}");
        }
        Assert.Equal(lines.Length, root.GetProperty("events").GetInt64());
        Assert.Equal(3 * 86_400, root.GetProperty("simulatedSeconds").GetDouble());
        foreach (var p in new[] { "p50", "p90", "p99", "max" })
        {
            Assert.True(root.GetProperty("timeToRunning").GetProperty(p).GetDouble() > 0);
        }
    }

    [Fact]
    public async Task Simulate_twice_and_on_three_silos_gives_byte_identical_logs()
    {
        var runs = new[] { ("A", "1"), ("B", "1"), ("C", "3") };
        foreach (var (name, silos) in runs)
        {
            var (exit, output) = await RunInProcess("simulate", Repo("scenarios/quickstart.yaml"), "--out", Path.Combine(_work, name), "--silos", silos);
            Assert.True(exit == 0, output);
        }
        var a = await File.ReadAllBytesAsync(Path.Combine(_work, "A", "events.jsonl"));
        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(_work, "B", "events.jsonl")));
        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(_work, "C", "events.jsonl")));
    }

    private const string BadScenario = """
        name: bad
        accounts:
          - id: acme
            clusters:
              - name: prod
                capacityProviders:
                  - { name: mi, type: MANAGED_INSTANCES }
                taskDefinitions:
                  - family: web
                    containers:
                      - { name: app, image: x, cpu: 256, memoryReservation: 2048, memory: 1024 }
                services:
                  - { name: web, taskDefinition: webb, desiredCount: 3, capacityProvider: mi }
        timeline:
          - { at: 1h, runTask: { account: acme, cluster: prod, taskDefinition: web, count: 11, capacityProvider: mi } }
        """;

    [Theory]
    [InlineData("validate")]
    [InlineData("simulate")]
    public void Bad_input_exits_2_names_each_problem_with_its_line_and_writes_nothing(string command)
    {
        var file = Path.Combine(_work, "bad.yaml");
        File.WriteAllText(file, BadScenario);
        var outDir = Path.Combine(_work, "out");
        var (exit, output) = command == "simulate" ? RunProcess(command, file, "--out", outDir) : RunProcess(command, file);
        Assert.Equal(2, exit);
        Assert.Contains("bad.yaml:11:", output); // memoryReservation above memory
        Assert.Contains("memoryReservation", output);
        Assert.Contains("bad.yaml:13:", output); // unknown task definition
        Assert.Contains("webb", output);
        Assert.Contains("bad.yaml:15:", output); // RunTask count above 10
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Exception", output);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void A_yaml_syntax_error_is_reported_with_line_and_column()
    {
        var file = Path.Combine(_work, "syntax.yaml");
        File.WriteAllText(file, "name: x\naccounts:\n  - id: [a\n");
        var (exit, output) = RunProcess("validate", file);
        Assert.Equal(2, exit);
        Assert.Matches(@"syntax\.yaml:\d+:\d+:", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task A_missing_file_and_unknown_options_are_bad_input()
    {
        var (exit, output) = await RunInProcess("simulate", Path.Combine(_work, "nope.yaml"));
        Assert.Equal(2, exit);
        Assert.Contains("nope.yaml", output);
        (exit, _) = await RunInProcess("simulate", Repo("scenarios/quickstart.yaml"), "--silos", "0");
        Assert.Equal(2, exit);
        (exit, _) = await RunInProcess("frobnicate");
        Assert.Equal(2, exit);
    }

    [Fact]
    public async Task A_bad_batch_job_is_bad_input_and_simulate_writes_nothing()
    {
        var text = File.ReadAllText(Repo("scenarios/batch-10k.yaml"))
            .Replace("arraySize: 10000, name: frames", "arraySize: 10001, name: frames, dependsOn: [render]", StringComparison.Ordinal);
        var file = Path.Combine(_work, "bad-batch.yaml");
        File.WriteAllText(file, text);
        var (exit, output) = await RunInProcess("validate", file);
        Assert.Equal(2, exit);
        Assert.Matches(@"bad-batch\.yaml:\d+:\d+: timeline\[0\]\.submitJob\.arraySize: 10001 is out of range: must be between 1 and 10000", output);
        Assert.Matches(@"bad-batch\.yaml:\d+:\d+: timeline\[0\]\.submitJob\.dependsOn\[0\]: unknown job 'render'", output);
        var outDir = Path.Combine(_work, "never");
        (exit, _) = await RunInProcess("simulate", file, "--out", outDir);
        Assert.Equal(2, exit);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task Validate_accepts_every_bundled_scenario()
    {
        foreach (var file in Directory.EnumerateFiles(Repo("scenarios"), "*.yaml", SearchOption.AllDirectories))
        {
            var (exit, output) = await RunInProcess("validate", file);
            Assert.True(exit == 0, output);
        }
    }

    [Fact]
    public void Bench_writes_both_placement_figures_to_bench_json()
    {
        var outDir = Path.Combine(_work, "bench");
        var (exit, output) = RunProcess("bench", "--out", outDir, "--tasks", "3000", "--instances", "300", "--repeat", "1");
        Assert.True(exit == 0, output);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "bench.json")));
        var root = json.RootElement;
        Assert.True(root.GetProperty("placementCorePerSecond").GetDouble() > 0, output);
        Assert.True(root.GetProperty("placementEndToEndPerSecond").GetDouble() > 0, output);
        Assert.Equal(3000, root.GetProperty("placementEndToEndTasksAcknowledged").GetInt64());
        Assert.Contains("placementCorePerSecond", output);
    }

    [Fact]
    public async Task Bench_refuses_nonsense_sizes()
    {
        var (exit, output) = await RunInProcess("bench", "--tasks", "0");
        Assert.Equal(2, exit);
        Assert.Contains("--tasks", output);
    }

    [Fact]
    public async Task Explain_reports_the_phase_and_the_instance_of_a_task()
    {
        var outDir = Path.Combine(_work, "explain");
        var (exit, output) = await RunInProcess("simulate", Repo("scenarios/quickstart.yaml"), "--out", outDir, "--explain", "web-00001");
        Assert.True(exit == 0, output);
        var text = File.ReadAllText(Path.Combine(outDir, "explain-web-00001.txt"));
        Assert.Contains("task web-00001 (group web, capacity provider mi", text);
        Assert.Matches(@"phase [123] \(\w+\): i-\d{5}", text);
        Assert.Contains("placement of web-00001", output);

        (exit, output) = await RunInProcess("simulate", Repo("scenarios/quickstart.yaml"), "--out", outDir, "--explain", "no-such-task");
        Assert.Equal(0, exit);
        Assert.Contains("never pending placement", output);
        Assert.DoesNotContain("does not cover clusters", output);
    }

    [Fact]
    public async Task Explain_warns_before_the_run_that_it_does_not_cover_sharded_clusters()
    {
        var scenario = Path.Combine(_work, "sharded.yaml");
        File.WriteAllText(scenario, """
            name: sharded
            duration: 10m
            accounts:
              - id: a
                clusters:
                  - name: c
                    placement: { shards: 2, mode: shared-state }
                    capacityProviders: [ { name: mi, type: MANAGED_INSTANCES } ]
                    taskDefinitions:
                      - { family: t, cpu: 256, memory: 512, containers: [ { name: a, image: i, cpu: 256, memory: 512 } ] }
                    services: [ { name: s, taskDefinition: t, desiredCount: 2 } ]
            """);
        var (exit, output) = await RunInProcess("simulate", scenario, "--out", Path.Combine(_work, "sharded"), "--explain", "s-00001");
        Assert.True(exit == 0, output);
        var warning = output.IndexOf("--explain does not cover clusters with several placement schedulers (a/c: shared-state, 2 scheduler(s))", StringComparison.Ordinal);
        Assert.True(warning >= 0, output);
        Assert.True(warning < output.IndexOf("Running sharded", StringComparison.Ordinal), "the warning comes before the run");
    }
}
