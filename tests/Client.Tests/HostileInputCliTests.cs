using System.Diagnostics;
using System.Text;

namespace Scheduler.Client.Tests;

/// <summary>
/// The command line, end to end, against files that are not scenario files, bounds a small file passes, options of
/// every command with values of the wrong form and the silo host's command line.
/// The loader's behaviour on each hostile file is tested in Core; here it is the exit code, the absence of a stack
/// trace and of any output folder, and the process's memory (its managed heap capped at 1 GiB).
/// </summary>
public sealed class HostileInputCliTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-hostile-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string Write(string name, string text)
    {
        var file = Path.Combine(_work, name);
        File.WriteAllText(file, text);
        return file;
    }

    private const string Cluster = """
        { name: c, capacityProviders: [ { name: f, type: FARGATE } ], taskDefinitions: [ { family: t, cpu: 256, memory: 512, runTime: 1m, containers: [ { name: a, image: i, cpu: 256, memory: 512 } ] } ] }
        """;

    private static ProcessStartInfo Capped(ProcessStartInfo start)
    {
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x40000000";
        return start;
    }

    private (int Exit, string Output) Run(params string[] args)
    {
        using var process = Process.Start(Capped(CliHarness.StartInfo(_work, args)))!;
        var output = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "the client did not finish");
        return (process.ExitCode, string.Concat(output.Result));
    }

    private static void AssertBadInput(int exit, string output, string message)
    {
        Assert.True(exit == 2, output);
        // A long message is wrapped at the console's width: compare with the line breaks undone.
        Assert.Contains(message, System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "));
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Exception", output);
    }

    public static TheoryData<string, string> BoundedFiles() => new()
    {
        {
            "bursts.yaml",
            $"name: b\nduration: 400d\naccounts: [ {{ id: a, clusters: [ {Cluster} ] }} ]\n"
                + "generators:\n  - arrivals: { account: a, cluster: c, taskDefinition: t, capacityProvider: f, process: bursts, every: 1ms, size: 1000000 }\n"
        },
        {
            "instances.yaml",
            "name: i\naccounts: [ { id: a, clusters: [ { name: c, capacityProviders: [ { name: e, type: EXTERNAL, instances: [ { vcpu: 2, memoryMiB: 8192, count: 2000000000 } ] } ] } ] } ]\n"
        },
        { "long.yaml", "name: " + new string('x', 10_000_000) + "\n" },
        {
            "jobs.yaml",
            "name: j\naccounts: [ { id: a, clusters: [ { name: c, capacityProviders: [ { name: f, type: FARGATE } ], jobQueues: [ { name: q } ],\n"
                + "    taskDefinitions: [ { family: t, cpu: 256, memory: 512, containers: [ { name: a, image: i, cpu: 256, memory: 512 } ] } ] } ] } ]\ntimeline:\n"
                + string.Concat(Enumerable.Range(0, 600).Select(i => $"  - {{ at: 0s, submitJob: {{ account: a, cluster: c, jobQueue: q, taskDefinition: t, runTime: 1m, arraySize: 10000, name: j{i} }} }}\n"))
        },
    };

    /// <summary>Each file passes one bound (bursts counted before they are made, instances, value length, batch tasks): exit 2 with its --limit hint.</summary>
    [Theory]
    [MemberData(nameof(BoundedFiles))]
    public void A_file_past_a_bound_is_refused_with_the_bound_named(string name, string text)
    {
        var outDir = Path.Combine(_work, "out");
        var (exit, output) = Run("simulate", Write(name, text), "--out", outDir);
        AssertBadInput(exit, output, "raise it with --limit ");
        Assert.Contains("1 error(s); nothing was run.", output);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Pipes_and_devices_given_as_the_scenario_are_refused_at_once()
    {
        var fifo = Path.Combine(_work, "pipe.yaml");
        using (var mkfifo = Process.Start("mkfifo", [fifo])!)
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        var outDir = Path.Combine(_work, "out");
        foreach (var (path, what) in new[] { (fifo, "named pipe (FIFO)"), ("/dev/zero", "character device") })
        {
            var (exit, output) = Run("simulate", path, "--out", outDir);
            AssertBadInput(exit, output, what);
            Assert.False(Directory.Exists(outDir));
            (exit, output) = Run("validate", path);
            AssertBadInput(exit, output, what);
            (exit, output) = Run("bench", "--scenario", path, "--out", outDir);
            AssertBadInput(exit, output, what);
            Assert.False(Directory.Exists(outDir));
        }
    }

    [Theory]
    [InlineData("serve", "--port", "abc", "--port: 'abc' is not a whole number")]
    [InlineData("serve", "--speed", "abc", "--speed: 'abc' is not a number from 0.01 to 100000")]
    [InlineData("serve", "--speed", "NaN", "--speed: 'NaN' is not a number")]
    public void Serve_options_of_the_wrong_form_exit_2(string command, string option, string value, string message)
    {
        string[] port = option == "--port" ? [] : ["--port", "1"];
        var (exit, output) = Run([command, RepoPaths.Of("scenarios/live.yaml"), .. port, option, value]);
        AssertBadInput(exit, output, message);
    }

    [Fact]
    public void Bench_checks_its_output_folder_before_it_runs()
    {
        var file = Write("taken", "a file where the folder should be");
        var (exit, output) = Run("bench", "--tasks", "10", "--instances", "2", "--repeat", "1", "--out", file);
        AssertBadInput(exit, output, "is a file, not a folder");
        Assert.DoesNotContain("placement core", output);
    }

    [Theory]
    [InlineData("-x", "-x: unknown option")]
    [InlineData("--frobnicate 1", "--frobnicate: unknown option")]
    [InlineData("--store", "--store: needs a value")]
    [InlineData("--store memory --silo-port", "--silo-port: needs a value")]
    [InlineData("positional", "'positional': unexpected argument")]
    public async Task The_silo_host_refuses_a_command_line_it_would_otherwise_ignore(string args, string message)
    {
        var start = Capped(new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true });
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Scheduler.Silo.dll"));
        foreach (var a in args.Split(' '))
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var output = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            // A silo that started (the bug) is stopped here, not left running.
            process.Kill();
            Assert.Fail("the silo host started instead of refusing its command line");
        }
        AssertBadInput(process.ExitCode, string.Concat(await output), message);
    }

    [Fact]
    public void An_explanation_file_is_named_within_what_a_file_system_allows_whatever_the_task_id()
    {
        var a = new string('t', 5000) + "a";
        var b = new string('t', 5000) + "b";
        var nameA = Path.GetFileName(SimulationRun.ExplanationPath(_work, a));
        Assert.InRange(Encoding.UTF8.GetByteCount(nameA), 1, 255);
        Assert.NotEqual(nameA, Path.GetFileName(SimulationRun.ExplanationPath(_work, b)));
        Assert.Equal(nameA, Path.GetFileName(SimulationRun.ExplanationPath(_work, a)));
        Assert.Equal("explain-web-00040.txt", Path.GetFileName(SimulationRun.ExplanationPath(_work, "web-00040")));
        Assert.Equal("explain-_.._x_y.txt", Path.GetFileName(SimulationRun.ExplanationPath(_work, "/../x\u00e9y")));
        File.WriteAllText(SimulationRun.ExplanationPath(_work, new string('\u00e9', 400)), "written");
    }
}
