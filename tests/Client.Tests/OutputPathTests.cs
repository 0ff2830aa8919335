using System.Diagnostics;

namespace Scheduler.Client.Tests;

/// <summary>
/// Where a command may write, checked before anything starts: `serve` like `simulate` (its output folder, its
/// recording, its limits), paths with control characters, a folder on a read-only file system.
/// </summary>
public sealed class OutputPathTests : IDisposable
{
    private const string Live = """
        name: NAME
        until: settled
        accounts:
          - id: "111111111111"
            credentials: { accessKeyId: AKIAOUTTEST00000001, secretAccessKey: out-test-secret }
            clusters:
              - name: c
                capacityProviders: [ { name: FARGATE, type: FARGATE } ]
                taskDefinitions:
                  - { family: t, cpu: 256, memory: 512, runTime: 1m, containers: [ { name: a, image: i, cpu: 256, memory: 512 } ] }
                services: [ { name: s, taskDefinition: t, desiredCount: 3 } ]
        """;

    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-out-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private string Scenario(string name = "out-test")
    {
        var file = Path.Combine(_work, "live.yaml");
        File.WriteAllText(file, Live.Replace("NAME", name, StringComparison.Ordinal));
        return file;
    }

    private static void AssertBadInput(int exit, string output, string message)
    {
        Assert.True(exit == 2, output);
        Assert.Contains(message, System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "));
        Assert.DoesNotContain("   at ", output);
        // Refused before the silo started: serve never got to listen.
        Assert.DoesNotContain("serving the ECS API", output);
        Assert.DoesNotContain("Running", output);
    }

    private static string Port() => TestPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Serve_holds_the_scenario_to_its_limits_and_names_the_one_to_raise()
    {
        var outDir = Path.Combine(_work, "out");
        var (exit, output) = await CliHarness.RunInProcess("serve", Scenario(), "--port", Port(), "--out", outDir, "--limit", "tasks=2");
        AssertBadInput(exit, output, "desiredCount 3 asks for more tasks than the scenario may (limit 2; raise it with --limit tasks=N)");
        Assert.False(Directory.Exists(outDir));

        (exit, output) = await CliHarness.RunInProcess("serve", Scenario(), "--port", Port(), "--out", outDir, "--limit", "taks=2");
        AssertBadInput(exit, output, "--limit: unknown limit 'taks' (did you mean 'tasks'?)");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task Serve_with_strict_refuses_a_scenario_with_warnings()
    {
        var text = File.ReadAllText(Scenario()).Replace("until: settled", "duration: 1h", StringComparison.Ordinal)
            + "\ntimeline:\n  - { at: 2h, updateService: { account: \"111111111111\", cluster: c, service: s, desiredCount: 1 } }\n";
        var file = Path.Combine(_work, "late.yaml");
        File.WriteAllText(file, text);
        var outDir = Path.Combine(_work, "out");
        var (exit, output) = await CliHarness.RunInProcess("serve", file, "--port", Port(), "--out", outDir, "--strict");
        AssertBadInput(exit, output, "timeline[0].at: at 2h is after the end of the run (duration 1h); this entry never happens");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task Serve_checks_its_output_folder_and_its_recording_before_the_silo_starts()
    {
        var file = Path.Combine(_work, "taken");
        File.WriteAllText(file, "not a folder");
        var (exit, output) = await CliHarness.RunInProcess("serve", Scenario(), "--port", Port(), "--out", file);
        AssertBadInput(exit, output, $"--out {file}: is a file, not a folder");
        Assert.Equal("not a folder", File.ReadAllText(file));

        var outDir = Path.Combine(_work, "out");
        var missing = Path.Combine(_work, "no-such-folder", "recorded.yaml");
        (exit, output) = await CliHarness.RunInProcess("serve", Scenario(), "--port", Port(), "--out", outDir, "--record", missing);
        AssertBadInput(exit, output, $"--record {missing}: the folder {Path.GetDirectoryName(missing)} does not exist");
        Assert.False(Directory.Exists(outDir));

        (exit, output) = await CliHarness.RunInProcess("serve", Scenario(), "--port", Port(), "--out", outDir, "--record", _work);
        AssertBadInput(exit, output, $"--record {_work}: is a folder, not a file");
        Assert.False(Directory.Exists(outDir));
    }

    [Theory]
    [InlineData("simulate")]
    [InlineData("serve")]
    public async Task An_output_path_with_a_control_character_is_refused_and_nothing_is_made(string command)
    {
        var outDir = Path.Combine(_work, "two\nlines");
        string[] port = command == "serve" ? ["--port", Port()] : [];
        var (exit, output) = await CliHarness.RunInProcess([command, Scenario(), "--out", outDir, .. port]);
        AssertBadInput(exit, output, "the path holds a control character (U+000A at position");
        Assert.Contains(@"two\u000Alines", output);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_work), e => Path.GetFileName(e).StartsWith("two", StringComparison.Ordinal));

        if (command == "serve")
        {
            (exit, output) = await CliHarness.RunInProcess([command, Scenario(), "--out", Path.Combine(_work, "out"), "--record", Path.Combine(_work, "rec\t.yaml"), .. port]);
            AssertBadInput(exit, output, "--record");
            Assert.Contains("U+0009", output);
        }
    }

    [Fact]
    public async Task A_scenario_name_with_a_control_character_is_refused_by_every_command()
    {
        var scenario = Scenario("\"two\\nlines\"");
        foreach (var args in new[] { new[] { "validate", scenario }, ["simulate", scenario], ["serve", scenario, "--port", Port()] })
        {
            var (exit, output) = await CliHarness.RunInProcess(args);
            AssertBadInput(exit, output, "name: the name holds a control character (U+000A at position 4)");
        }
        Assert.False(Directory.Exists(Path.Combine(_work, "runs")));
    }

    [ReadOnlyMountFact]
    public async Task A_folder_on_a_read_only_file_system_is_bad_input_even_for_root()
    {
        // Root writes through a folder's permission bits, so only a file system mounted read-only stops it.
        var mount = Directory.CreateDirectory(Path.Combine(_work, "ro")).FullName;
        Run("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", mount);
        try
        {
            foreach (var command in new[] { "simulate", "serve" })
            {
                string[] port = command == "serve" ? ["--port", Port()] : [];
                var (exit, output) = await CliHarness.RunInProcess([command, Scenario(), "--out", Path.Combine(mount, "out"), .. port]);
                AssertBadInput(exit, output, $"--out {Path.Combine(mount, "out")}: cannot write there");
                Assert.Contains("Read-only file system", output);
            }
        }
        finally
        {
            Run("umount", mount);
        }
    }

    private static void Run(string tool, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, args) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', args)}: {error}");
    }
}

/// <summary>Runs where the test may mount a file system (root with CAP_SYS_ADMIN on Linux); skipped elsewhere.</summary>
public sealed class ReadOnlyMountFactAttribute : FactAttribute
{
    public ReadOnlyMountFactAttribute()
    {
        if (!CanMount())
        {
            Skip = "mounting a read-only file system needs root with CAP_SYS_ADMIN on Linux";
        }
    }

    private static bool CanMount()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/status"))
        {
            return false;
        }
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        const int sysAdmin = 21;
        return line is not null
            && ulong.TryParse(line["CapEff:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, null, out var caps)
            && (caps & (1UL << sysAdmin)) != 0;
    }
}
