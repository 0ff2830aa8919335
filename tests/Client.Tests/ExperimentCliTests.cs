using System.Text.Json;
using Scheduler.Client.Experiment;

namespace Scheduler.Client.Tests;

/// <summary>The <c>experiment</c> command end to end: real embedded silos, real files.</summary>
public sealed class ExperimentCliTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-experiment-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>The bundled study cut to 12 simulated minutes, so that a small grid runs in seconds.</summary>
    private string ShortStudy()
    {
        var text = File.ReadAllText(RepoPaths.Of("scenarios/sharding-study.yaml")).Replace("duration: 90m", "duration: 12m", StringComparison.Ordinal);
        Assert.Contains("duration: 12m", text);
        var path = Path.Combine(_work, "study.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task A_grid_gives_one_csv_row_per_run_an_html_page_with_the_curves_and_the_table()
    {
        var outDir = Path.Combine(_work, "out");
        var (exit, output) = await CliHarness.RunInProcess("experiment", ShortStudy(), "--shards", "2,3", "--mode", "partitioned,shared-state",
            "--conflict", "coarse", "--decision-time", "5s", "--out", outDir);
        Assert.True(exit == 0, output);

        var csv = File.ReadAllLines(Path.Combine(outDir, "experiment.csv"));
        Assert.Equal(string.Join(',', ExperimentReport.Columns), csv[0]);
        // The monolithic baseline, then partitioned and shared-state (coarse) for 2 and 3 shards.
        var rows = csv.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(["monolithic-k1-d0s", "partitioned-k2-d5s", "shared-state-k2-coarse-d5s", "partitioned-k3-d5s", "shared-state-k3-coarse-d5s"],
            rows.Select(r => r[0]));
        Assert.All(rows, r => Assert.Equal(ExperimentReport.Columns.Count, r.Length));
        string Cell(string[] row, string column) => row[ExperimentReport.Columns.ToList().IndexOf(column)];
        // Each row agrees with its run's own summary.json.
        foreach (var row in rows)
        {
            using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "runs", row[0], "summary.json")));
            Assert.Equal(summary.RootElement.GetProperty("placementConflicts").GetInt32().ToString(), Cell(row, "placementConflicts"));
            Assert.Equal(summary.RootElement.GetProperty("tasksLaunched").GetInt32().ToString(), Cell(row, "tasksLaunched"));
        }
        Assert.All(rows.Where(r => r[2] == "partitioned"), r => Assert.Equal("0", Cell(r, "placementConflicts")));
        Assert.Equal("1.00", Cell(rows[0], "wallVsMonolithic"));
        Assert.Equal(3, Cell(rows[3], "placedByShard").Split(' ').Length);

        var html = File.ReadAllText(Path.Combine(outDir, "experiment.html"));
        Assert.All(ExperimentReport.ChartIds, id => Assert.Contains($"id=\"{id}\"", html));
        Assert.Contains("<svg", html);
        Assert.Contains("shared-state-k3-coarse-d5s", html);
        Assert.Contains("conflicts", output);
        Assert.Contains("shared-state", output);
    }

    [Theory]
    [InlineData("--shards", "0,2", "--shards: '0' is not a whole number from 1 to 64")]
    [InlineData("--mode", "shared,partitioned", "--mode: unknown mode 'shared'; expected monolithic, partitioned or shared-state")]
    [InlineData("--conflict", "fine,,coarse", "--conflict: empty item in 'fine,,coarse'")]
    [InlineData("--decision-time", "1s,-2s", "--decision-time: '-2s' must be between 0s and 1h")]
    public async Task A_bad_grid_value_exits_2_naming_the_option_and_runs_nothing(string option, string value, string message)
    {
        var outDir = Path.Combine(_work, "bad");
        var (exit, output) = await CliHarness.RunInProcess("experiment", ShortStudy(), option, value, "--out", outDir);
        Assert.True(exit == 2, output);
        Assert.Contains(message, output);
        Assert.DoesNotContain("Exception", output);
        Assert.False(Directory.Exists(outDir));
    }
}
