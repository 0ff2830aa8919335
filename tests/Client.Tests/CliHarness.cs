using System.Diagnostics;
using Spectre.Console;

namespace Scheduler.Client.Tests;

/// <summary>Runs the command line as the tests need it: in this process with a captured plain console, or as its own process.</summary>
public static class CliHarness
{
    /// <summary>Runs the built client as its own process, as a user would.</summary>
    public static (int Exit, string Output) RunProcess(params string[] args) => RunProcess(new Dictionary<string, string>(), args);

    /// <summary>Runs the built client as its own process with these environment variables added.</summary>
    public static (int Exit, string Output) RunProcess(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = StartInfo(RepoPaths.Root(), args);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "the client did not finish");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Runs the command line in this process with a wide, plain, non-interactive console.</summary>
    public static async Task<(int Exit, string Output)> RunInProcess(params string[] args)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 200;
        var exit = await Cli.RunAsync(args, console);
        return (exit, writer.ToString());
    }

    /// <summary>How to start the built client in <paramref name="workingDirectory"/> with these arguments.</summary>
    public static ProcessStartInfo StartInfo(string workingDirectory, params string[] args)
    {
        // A test run started in the background (nohup, `cmd &` in a script) inherits SIGINT ignored, and an ignored
        // signal stays ignored across exec, so the client would never see the Ctrl-C the signal tests send. GNU env
        // puts SIGINT back to its default before it runs dotnet (same pid: env execs).
        var start = new ProcessStartInfo(OperatingSystem.IsLinux() ? "env" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        if (OperatingSystem.IsLinux())
        {
            start.ArgumentList.Add("--default-signal=INT");
            start.ArgumentList.Add("dotnet");
        }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Scheduler.Client.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        return start;
    }
}
