using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Scheduler.Client.Tests.Distributed;

/// <summary>A fact that runs only where a server it needs is installed (CI installs them with scripts/deps/).</summary>
public sealed class RequiresToolFactAttribute : FactAttribute
{
    public RequiresToolFactAttribute(string tool, string script)
    {
        if (ExternalProcesses.Find(tool) is null)
        {
            Skip = $"{tool} is not installed here (scripts/deps/{script} installs it; CI runs it)";
        }
    }
}

/// <summary>A process the test started, with its output kept; stopped by its process id when disposed.</summary>
public sealed class ExternalProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public ExternalProcess(string name, string file, IEnumerable<string> args, string? workingDirectory = null)
    {
        Name = name;
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool Exited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>SIGKILL: the process dies at once, as a crashed silo does.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
            _process.WaitForExit(10_000);
        }
    }

    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }
        _process.WaitForExit();
        return true;
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // Never started, or already gone.
        }
        _process.Dispose();
    }
}

public static class ExternalProcesses
{
    public static string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    /// <summary>Waits until something listens on 127.0.0.1:<paramref name="port"/>; fails with the process's output if it does not.</summary>
    public static async Task WaitForPortAsync(int port, ExternalProcess process, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            Assert.False(process.Exited, $"{process.Name} exited early:\n{process.Output}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        Assert.Fail($"{process.Name} did not listen on 127.0.0.1:{port} within {timeout.TotalSeconds} s:\n{process.Output}");
    }
}
