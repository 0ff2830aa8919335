using System.Diagnostics;

namespace Scheduler.Client.Tests;

/// <summary>
/// Ctrl-C or SIGTERM while a large scenario is still loading: `simulate` and `serve` stop the load, write nothing and
/// exit as shells expect (130, 143). The signal is sent once the program has said it is loading (its first progress
/// line), so the test waits for a state, not for a time.
/// </summary>
public sealed class LoadSignalTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-load-signal-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>
    /// 300,000 timeline entries, each an alias of the first (so the file is small and memory stays low), each naming an
    /// unknown account: the loader reports progress after 65,536 of them and has most of the work still ahead.
    /// </summary>
    private string SlowScenario()
    {
        var path = Path.Combine(_work, "slow.yaml");
        using var file = new StreamWriter(path);
        file.Write("""
            name: slow
            accounts:
              - id: a
                credentials: { accessKeyId: AKIASLOWTEST0000001, secretAccessKey: slow-test-secret }
                clusters: [ { name: c, capacityProviders: [ { name: f, type: FARGATE } ], taskDefinitions: [ { family: t, cpu: 256, memory: 512, containers: [ { name: a, image: i, cpu: 256, memory: 512 } ] } ] } ]
            timeline:
              - &e { at: 0s, runTask: { account: nope, cluster: c, taskDefinition: t } }

            """);
        for (var i = 1; i < 300_000; i++)
        {
            file.Write("  - *e\n");
        }
        return path;
    }

    [Theory]
    [InlineData("simulate", "INT", 130)]
    [InlineData("simulate", "TERM", 143)]
    [InlineData("serve", "INT", 130)]
    [InlineData("serve", "TERM", 143)]
    public void A_signal_during_the_load_stops_it_writes_nothing_and_exits_with_the_signals_code(string command, string signal, int exitCode)
    {
        var outDir = Path.Combine(_work, "out");
        string[] serve = command == "serve" ? ["--port", TestPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];
        using var run = OutputLines.Start(CliHarness.StartInfo(_work, [command, SlowScenario(), "--limit", "expansion=10000000", "--out", outDir, .. serve]));

        Assert.True(run.WaitForLine(line => line.StartsWith("loading ", StringComparison.Ordinal), TimeSpan.FromMinutes(2)),
            $"no progress line before the load ended:\n{run.Text}");
        Signals.Send(run.Process.Id, signal);

        Assert.True(run.Process.WaitForExit(TimeSpan.FromMinutes(1)), "the load did not stop after the signal");
        run.Process.WaitForExit();
        var text = run.Text;
        Assert.True(run.Process.ExitCode == exitCode, text);
        Assert.Contains("interrupted while loading the scenario", text);
        Assert.DoesNotContain("error(s)", text);
        Assert.DoesNotContain("   at ", text);
        Assert.False(Directory.Exists(outDir));
    }
}
