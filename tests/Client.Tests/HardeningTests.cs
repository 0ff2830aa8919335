using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CsCheck;

namespace Scheduler.Client.Tests;

/// <summary>
/// The command line against signals, malformed options, hostile files and awkward output folders: the real
/// program as its own process where the behaviour is the process's (signals, exit codes, memory).
/// </summary>
public sealed class HardeningTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-harden-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string Write(string name, string text)
    {
        var file = Path.Combine(_work, name);
        File.WriteAllText(file, text);
        return file;
    }

    /// <summary>A year of one service whose tasks exit after a minute: it never runs out of work.</summary>
    private const string Endless = """
        name: endless
        duration: 365d
        accounts:
          - id: a
            clusters:
              - name: c
                capacityProviders: [ { name: f, type: FARGATE } ]
                taskDefinitions:
                  - { family: t, cpu: 256, memory: 512, runTime: { mean: 1m, stddev: 10s, min: 30s },
                      containers: [ { name: a, image: i, cpu: 256, memory: 512 } ] }
                services: [ { name: s, taskDefinition: t, desiredCount: 20 } ]
        """;

    private const string Cluster = """
        { name: c, capacityProviders: [ { name: f, type: FARGATE } ], taskDefinitions: [ { family: t, cpu: 256, memory: 512, containers: [ { name: a, image: i, cpu: 256, memory: 512 } ] } ], services: [ { name: s, taskDefinition: t, desiredCount: 1 } ] }
        """;

    /// <summary>Starts a run of <see cref="Endless"/> and returns once it has written events.</summary>
    private (Process Process, string OutDir, Task<string> Output) StartEndlessRun()
    {
        var outDir = Path.Combine(_work, "out");
        var process = Process.Start(CliHarness.StartInfo(_work, "simulate", Write("endless.yaml", Endless), "--out", outDir))!;
        var output = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync()).ContinueWith(t => string.Concat(t.Result));
        var events = Path.Combine(outDir, "events.jsonl");
        var waited = Stopwatch.StartNew();
        while (!(File.Exists(events) && new FileInfo(events).Length > 0))
        {
            Assert.False(process.HasExited, "the run ended before it was signalled");
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(2), "the run wrote no events");
            Thread.Sleep(100);
        }
        return (process, outDir, output);
    }

    [Theory]
    [InlineData("INT", 130, "SIGINT")]
    [InlineData("TERM", 143, "SIGTERM")]
    public async Task A_signal_stops_the_run_keeps_its_events_and_marks_the_summary_interrupted(string signal, int exitCode, string reason)
    {
        var (process, outDir, output) = StartEndlessRun();
        var clock = Stopwatch.StartNew();
        Signals.Send(process.Id, signal);
        var stopped = process.WaitForExit(TimeSpan.FromSeconds(30));
        var took = clock.Elapsed;
        if (!stopped)
        {
            process.Kill();
        }
        Assert.True(stopped, "the run did not stop after the signal");
        Assert.True(took < TimeSpan.FromSeconds(15), $"stopping took {took.TotalSeconds:F1} s");
        var text = await output;
        Assert.True(process.ExitCode == exitCode, text);
        Assert.Contains($"interrupted by {reason}", text);

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        var root = summary.RootElement;
        Assert.True(root.GetProperty("interrupted").GetBoolean());
        Assert.Equal(reason, root.GetProperty("interruptReason").GetString());
        var simulated = root.GetProperty("simulatedSeconds").GetDouble();
        Assert.InRange(simulated, 1, 365 * 86_400 - 1);
        // The log holds whole lines only, exactly the events the summary counts, none after the stop.
        var lines = File.ReadAllLines(Path.Combine(outDir, "events.jsonl"));
        Assert.Equal(lines.Length, root.GetProperty("events").GetInt64());
        foreach (var line in lines)
        {
            using var e = JsonDocument.Parse(line);
            Assert.True(e.RootElement.GetProperty("t").GetInt64() <= simulated * 1000);
        }
        process.Dispose();
    }

    [Fact]
    public void A_second_ctrl_c_ends_the_process_at_once()
    {
        var (process, outDir, _) = StartEndlessRun();
        Signals.Send(process.Id, "INT", times: 2);
        var stopped = process.WaitForExit(TimeSpan.FromSeconds(30));
        if (!stopped)
        {
            process.Kill();
        }
        Assert.True(stopped);
        Assert.Equal(130, process.ExitCode);
        // Whether the graceful stop of the first signal wrote its summary before the second signal ended the process
        // depends on scheduling (the run stops at its next 250 ms slice), so only the exit is asserted here.
        _ = outDir;
        process.Dispose();
    }

    [Theory]
    [InlineData("simulate", "--silos", "abc", "--silos: 'abc' is not a whole number; expected a whole number from 1 to 16")]
    [InlineData("simulate", "--silos", "99", "--silos: 99 is out of range; expected a whole number from 1 to 16")]
    [InlineData("simulate", "--seed", "abc", "--seed: 'abc' is not a whole number")]
    [InlineData("bench", "--tasks", "abc", "--tasks: 'abc' is not a whole number; expected a whole number from 1 to 10,000,000")]
    [InlineData("bench", "--repeat", "1.5", "--repeat: '1.5' is not a whole number")]
    [InlineData("validate", "--limit", "nesting", "--limit nesting: expected nesting=N")]
    [InlineData("simulate", "--dashboard", "abc", "--dashboard: 'abc' is not a whole number")]
    public void A_malformed_option_value_exits_2_naming_the_option_and_the_expected_form(string command, string option, string value, string message)
    {
        string[] args = command == "bench"
            ? [command, option, value, "--out", Path.Combine(_work, "bench")]
            : [command, RepoPaths.Of("scenarios/quickstart.yaml"), option, value, "--out", Path.Combine(_work, "out")];
        if (command == "validate")
        {
            args = [command, RepoPaths.Of("scenarios/quickstart.yaml"), option, value];
        }
        var (exit, output) = CliHarness.RunProcess(args);
        Assert.True(exit == 2, output);
        Assert.Contains(message, output);
        Assert.DoesNotContain("Exception", output);
        Assert.DoesNotContain("System.", output);
        Assert.False(Directory.Exists(Path.Combine(_work, "out")));
    }

    /// <summary>Hostile files, each small (or generated here) and each asking for far more than a scenario may hold.</summary>
    public static TheoryData<string, string, string> HostileFiles() => new()
    {
        { "deep.json", new string('[', 100_000) + new string(']', 100_000), "--limit nesting=N" },
        { "laughs.yaml", Laughs(), "--limit expansion=N" },
        {
            "tenants.yaml",
            "name: t\ngenerators:\n  - tenants:\n      count: 100000\n      clustersPerAccount: 1000\n      cluster: "
                + Cluster.Replace("name: c, ", "", StringComparison.Ordinal) + "\n",
            "--limit entities=N"
        },
        { "recursive.yaml", "name: r\naccounts: &a [ { id: x, clusters: *a } ]\n", "recursive alias" },
    };

    private static string Laughs()
    {
        var s = new StringBuilder("name: laughs\nduration: 1h\nx0: &c0 ").Append(Cluster).Append('\n');
        for (var i = 1; i <= 11; i++)
        {
            s.Append($"x{i}: &c{i} [").Append(string.Join(", ", Enumerable.Repeat($"*c{i - 1}", 10))).Append("]\n");
        }
        s.Append("accounts:\n");
        for (var a = 0; a < 60; a++)
        {
            s.Append($"  - {{ id: a{a}, clusters: *c11 }}\n");
        }
        return s.ToString();
    }

    /// <summary>
    /// Each hostile file is bad input: exit 2, one error naming its bound, no stack trace, no output folder. The
    /// process runs with its managed heap capped at 1 GiB, so a file that still expanded would fail with an
    /// out-of-memory error instead of the bound's message; the peak working set seen is in the failure text.
    /// </summary>
    [Theory]
    [MemberData(nameof(HostileFiles))]
    public async Task A_hostile_file_is_refused_within_bounded_memory(string name, string text, string message)
    {
        var file = Write(name, text);
        var outDir = Path.Combine(_work, "out");
        var start = CliHarness.StartInfo(_work, "simulate", file, "--out", outDir);
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x40000000";
        using var process = Process.Start(start)!;
        var output = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        long peak = 0;
        while (!process.WaitForExit(20))
        {
            try
            {
                process.Refresh();
                peak = Math.Max(peak, process.PeakWorkingSet64);
            }
            catch (InvalidOperationException)
            {
                // exited between the two calls
            }
        }
        var all = string.Concat(await output);
        var context = $"peak working set seen {peak >> 20} MiB; output: {all}";
        Assert.True(process.ExitCode == 2, context);
        Assert.Contains(message, all);
        Assert.Contains("1 error(s); nothing was run.", all);
        Assert.DoesNotContain("   at ", all);
        Assert.True(peak < 1L << 30, context);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task Only_the_first_hundred_errors_are_printed_and_the_rest_counted()
    {
        var services = string.Join(", ", Enumerable.Range(0, 150).Select(i => $"{{ name: s{i}, taskDefinition: nope, desiredCount: 1 }}"));
        var file = Write("many.yaml", $"name: many\naccounts: [ {{ id: a, clusters: [ {{ name: c, capacityProviders: [ {{ name: f, type: FARGATE }} ], taskDefinitions: [], services: [ {services} ] }} ] }} ]\n");
        var (exit, output) = await CliHarness.RunInProcess("validate", file);
        Assert.Equal(2, exit);
        Assert.Equal(100, output.Split('\n').Count(l => l.StartsWith("error: ", StringComparison.Ordinal)));
        Assert.Contains("... and 50 more", output);
        Assert.Contains("150 error(s); nothing was run.", output);
    }

    [Fact]
    public async Task A_directory_given_as_the_scenario_is_said_to_be_one()
    {
        var (exit, output) = await CliHarness.RunInProcess("simulate", _work);
        Assert.Equal(2, exit);
        Assert.Contains("this is a directory, not a scenario file", output);
        Assert.DoesNotContain("denied", output);
    }

    private const string Short = """
        name: NAME
        duration: 10m
        accounts:
          - id: a
            clusters:
              - name: c
                capacityProviders: [ { name: f, type: FARGATE } ]
                taskDefinitions: [ { family: t, cpu: 256, memory: 512, containers: [ { name: a, image: i, cpu: 256, memory: 512 } ] } ]
                services: [ { name: s, taskDefinition: t, desiredCount: 2 } ]
        """;

    [Fact]
    public void A_scenario_name_never_leads_the_default_output_folder_outside_runs()
    {
        var root = Path.GetFullPath(Path.Combine(_work, "runs"));
        Gen.String.Sample(name =>
        {
            var safe = OutputFolder.SafeName(name);
            Assert.Equal(Path.Combine(root, safe), Path.GetFullPath(Path.Combine(root, safe)));
            Assert.DoesNotContain(Path.DirectorySeparatorChar, safe);
            Assert.False(safe.StartsWith('.'));
        });
        Assert.Equal("_._.._.._tmp_x", OutputFolder.SafeName("../../../tmp/x"));
        Assert.Equal("web-1.2_x", OutputFolder.SafeName("web-1.2_x"));
    }

    [Fact]
    public void A_run_of_a_scenario_named_with_dots_and_slashes_writes_inside_runs()
    {
        var cwd = Directory.CreateDirectory(Path.Combine(_work, "cwd")).FullName;
        var file = Write("escape.yaml", Short.Replace("NAME", "../../../escaped-x", StringComparison.Ordinal));
        using var process = Process.Start(CliHarness.StartInfo(cwd, "simulate", file))!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, output);
        Assert.True(File.Exists(Path.Combine(cwd, "runs", "_._.._.._escaped-x", "summary.json")), output);
        Assert.False(Directory.Exists(Path.GetFullPath(Path.Combine(cwd, "runs", "../../../escaped-x"))));
    }

    [Fact]
    public async Task An_output_folder_that_is_a_file_or_cannot_be_written_is_bad_input_before_anything_starts()
    {
        var scenario = Write("short.yaml", Short.Replace("NAME", "short", StringComparison.Ordinal));
        var file = Write("taken", "not a folder");
        var (exit, output) = await CliHarness.RunInProcess("simulate", scenario, "--out", file);
        Assert.Equal(2, exit);
        Assert.Contains($"--out {file}: is a file, not a folder", output);
        Assert.DoesNotContain("Running", output);
        Assert.Equal("not a folder", File.ReadAllText(file));

        // Even root cannot create folders under /proc.
        (exit, output) = await CliHarness.RunInProcess("simulate", scenario, "--out", "/proc/no-such-process/out");
        Assert.Equal(2, exit);
        Assert.Contains("--out /proc/no-such-process/out: cannot write there", output);
        Assert.DoesNotContain("Running", output);
    }

    [Fact]
    public async Task A_rerun_into_the_same_folder_clears_the_earlier_runs_files_and_keeps_others()
    {
        var scenario = Write("short.yaml", Short.Replace("NAME", "short", StringComparison.Ordinal));
        var outDir = Directory.CreateDirectory(Path.Combine(_work, "again")).FullName;
        File.WriteAllText(Path.Combine(outDir, "explain-web-00001.txt"), "stale");
        File.WriteAllText(Path.Combine(outDir, "error.log"), "stale");
        File.WriteAllText(Path.Combine(outDir, "notes.md"), "mine");
        var (exit, output) = await CliHarness.RunInProcess("simulate", scenario, "--out", outDir);
        Assert.True(exit == 0, output);
        Assert.False(File.Exists(Path.Combine(outDir, "explain-web-00001.txt")));
        Assert.False(File.Exists(Path.Combine(outDir, "error.log")));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(outDir, "notes.md")));
        Assert.True(File.Exists(Path.Combine(outDir, "summary.json")));
    }

    [Fact]
    public async Task Strict_makes_a_timeline_entry_after_the_end_an_error()
    {
        var scenario = Write("late.yaml", Short.Replace("NAME", "late", StringComparison.Ordinal)
            + "\ntimeline:\n  - { at: 1h, updateService: { account: a, cluster: c, service: s, desiredCount: 3 } }\n");
        var (exit, output) = await CliHarness.RunInProcess("validate", scenario);
        Assert.Equal(0, exit);
        Assert.Contains("warning: " + scenario + ":11:", output);
        Assert.Contains("after the end of the run (duration 10m)", output);
        (exit, output) = await CliHarness.RunInProcess("validate", scenario, "--strict");
        Assert.Equal(2, exit);
        Assert.Contains("error: " + scenario + ":11:", output);
    }

    [Fact]
    public async Task A_run_that_never_settles_stops_at_max_duration_and_the_summary_says_so()
    {
        var scenario = Write("unsettled.yaml", Endless.Replace("duration: 365d", "until: settled\nmaxDuration: 20m", StringComparison.Ordinal));
        var outDir = Path.Combine(_work, "unsettled");
        var (exit, output) = await CliHarness.RunInProcess("simulate", scenario, "--out", outDir);
        Assert.True(exit == 0, output);
        Assert.Contains("did not settle within maxDuration (20m)", output);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")));
        Assert.True(summary.RootElement.GetProperty("hitMaxDuration").GetBoolean());
        Assert.Equal(1200, summary.RootElement.GetProperty("simulatedSeconds").GetDouble());
        Assert.False(summary.RootElement.GetProperty("interrupted").GetBoolean());
    }
}
