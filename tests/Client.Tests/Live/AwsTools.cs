using System.Diagnostics;

namespace Scheduler.Client.Tests.Live;

/// <summary>The AWS CLI and its Python library (botocore) on this machine, for tests that speak to the live API as AWS clients do.</summary>
public static class AwsTools
{
    public const string Missing = "the AWS CLI (aws, with botocore) is not installed: scripts/deps/awscli.sh installs it";

    public static readonly bool Available = Probe("aws", "--version") && Probe("python3", "-c", "import botocore.auth");

    private static bool Probe(string program, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args)
            {
                start.ArgumentList.Add(a);
            }
            using var p = Process.Start(start)!;
            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            return p.WaitForExit(30_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Runs a program to completion and returns its exit code and output (stdout then stderr).</summary>
    public static (int Exit, string Stdout, string Stderr) Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null,
        string? stdin = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null,
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            start.Environment[k] = v;
        }
        using var p = Process.Start(start)!;
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), $"{program} did not finish");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>A fact that needs the AWS CLI: skipped, saying so, where it is not installed.</summary>
public sealed class AwsFactAttribute : FactAttribute
{
    public AwsFactAttribute()
    {
        if (!AwsTools.Available)
        {
            Skip = AwsTools.Missing;
        }
    }
}
