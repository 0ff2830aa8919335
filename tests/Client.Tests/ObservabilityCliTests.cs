using System.Text.Json;

namespace Scheduler.Client.Tests;

/// <summary>What a run reports besides its log: metrics.csv, thresholds and their exit codes.</summary>
public sealed class ObservabilityCliTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-obs-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static Task<(int Exit, string Output)> Run(params string[] args) => CliHarness.RunInProcess(args);

    [Fact]
    public async Task Metrics_csv_has_a_row_per_minute_with_the_documented_columns_and_agrees_with_the_summary()
    {
        var outDir = Path.Combine(_work, "m");
        var (exit, output) = await Run("simulate", RepoPaths.Of("scenarios/quickstart.yaml"), "--out", outDir);
        Assert.True(exit == 0, output);
        var lines = await File.ReadAllLinesAsync(Path.Combine(outDir, "metrics.csv"));
        var header = lines[0].Split(',');
        foreach (var column in new[] { "t", "pending", "running", "healthy", "instances", "age0_14d", "age14_21d", "age21_30d", "draining",
                     "cpuReservedPercent", "memoryReservedPercent", "launches", "throttled", "oomKills", "running_FARGATE", "instances_MANAGED_INSTANCES" })
        {
            Assert.Contains(column, header);
        }
        // Three simulated days at one minute.
        Assert.Equal(3 * 24 * 60, lines.Length - 1);
        var rows = lines.Skip(1).Select(l => l.Split(',').Select(double.Parse).ToArray()).ToArray();
        int Col(string name) => Array.IndexOf(header, name);
        Assert.Equal(Enumerable.Range(0, rows.Length).Select(k => k * 60.0), rows.Select(r => r[Col("t")]));
        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "summary.json")));
        var root = summary.RootElement;
        var placed = root.GetProperty("placementsByPhase").EnumerateObject().Sum(p => p.Value.GetInt32());
        Assert.Equal(placed, rows.Sum(r => r[Col("placedPhase1")] + r[Col("placedPhase2")] + r[Col("placedPhase3")]));
        Assert.Equal(root.GetProperty("tasksLaunched").GetInt32(), (int)rows.Sum(r => r[Col("tasksCreated")]));
        Assert.All(rows, r => Assert.True(r[Col("healthy")] <= r[Col("running")]));
        Assert.All(rows, r => Assert.Equal(r[Col("instances")], r[Col("age0_14d")] + r[Col("age14_21d")] + r[Col("age21_30d")] + r[Col("age30dPlus")]));
    }

    [Fact]
    public async Task Metrics_interval_sets_the_row_length()
    {
        var outDir = Path.Combine(_work, "h");
        var (exit, output) = await Run("simulate", RepoPaths.Of("scenarios/quickstart.yaml"), "--out", outDir, "--metrics-interval", "1h");
        Assert.True(exit == 0, output);
        var lines = await File.ReadAllLinesAsync(Path.Combine(outDir, "metrics.csv"));
        Assert.Equal(72, lines.Length - 1);
        Assert.StartsWith("3600,", lines[2]);
    }

    [Fact]
    public async Task Thresholds_that_hold_exit_0_and_one_that_fails_exits_1_with_the_table()
    {
        var scenario = RepoPaths.Of("scenarios/quickstart.yaml");
        var (passExit, passOutput) = await Run("simulate", scenario, "--out", Path.Combine(_work, "p"),
            "--fail-if", "timeToRunning.p99>300s", "--fail-if", "unplaceable>0", "--fail-if", "throttles.runTask>=100");
        Assert.True(passExit == 0, passOutput);
        Assert.Contains("all 3 threshold(s) passed", passOutput);

        // quickstart's p99 time to running is over a minute (its hosts launch first): this threshold fails, and the
        // table shows the run's own figure.
        var (failExit, failOutput) = await Run("simulate", scenario, "--out", Path.Combine(_work, "f"),
            "--fail-if", "timeToRunning.p99>60s", "--fail-if", "unplaceable>0");
        Assert.True(failExit == 1, failOutput);
        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_work, "f", "summary.json")));
        var p99 = summary.RootElement.GetProperty("timeToRunning").GetProperty("p99").GetDouble();
        Assert.True(p99 > 60, $"p99 {p99}s");
        Assert.Matches($@"timeToRunning\.p99>60s\s*│\s*{p99.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}s\s*│\s*FAIL", failOutput);
        Assert.Matches(@"unplaceable>0\s*│\s*0\s*│\s*pass", failOutput);
        Assert.Contains("1 of 2 threshold(s) failed", failOutput);
        Assert.Contains("FAIL", await File.ReadAllTextAsync(Path.Combine(_work, "f", "report.html")));
    }

    [Theory]
    [InlineData("p99>300s", "unknown key 'p99'")]
    [InlineData("timeToRunning.p99>>300s", "not a threshold")]
    [InlineData("unplaceable>3m", "not a count")]
    [InlineData("throttles.runTsk>=1", "throttles has")]
    public async Task A_bad_threshold_is_bad_input_reported_before_anything_runs(string expression, string message)
    {
        var outDir = Path.Combine(_work, "bad");
        var (exit, output) = await Run("simulate", RepoPaths.Of("scenarios/quickstart.yaml"), "--out", outDir, "--fail-if", expression);
        Assert.Equal(2, exit);
        Assert.Contains(message, output);
        Assert.DoesNotContain("Running quickstart", output);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task A_dashboard_port_in_use_is_bad_input()
    {
        var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
            var (exit, output) = await Run("simulate", RepoPaths.Of("scenarios/quickstart.yaml"), "--out", Path.Combine(_work, "d"), "--dashboard", $"{port}");
            Assert.Equal(2, exit);
            Assert.Contains($"port {port} on 127.0.0.1 is already in use", output);
        }
        finally
        {
            taken.Stop();
        }
    }

    [Fact]
    public async Task A_bad_metrics_interval_is_bad_input()
    {
        var (exit, output) = await Run("simulate", RepoPaths.Of("scenarios/quickstart.yaml"), "--out", Path.Combine(_work, "i"), "--metrics-interval", "0s");
        Assert.Equal(2, exit);
        Assert.Contains("--metrics-interval", output);
    }
}
