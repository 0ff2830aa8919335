using System.Diagnostics;
using System.Text;

namespace Scheduler.TestSupport;

/// <summary>
/// A process a test started, with its standard output and error read line by line as they come, so the test can wait
/// for a state the program announces (a "listening" line, a progress line) instead of for a time. Disposing it kills
/// the process (and its children) if it still runs.
/// </summary>
public sealed class OutputLines : IDisposable
{
    private readonly StringBuilder _text = new();
    private readonly List<Func<string, bool>> _waiting = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _open = 2;

    private OutputLines(Process process) => Process = process;

    public Process Process { get; }

    /// <summary>Everything both streams printed so far, in the order it arrived.</summary>
    public string Text
    {
        get
        {
            lock (_gate)
            {
                return _text.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="start"/> with both streams redirected and read.</summary>
    public static OutputLines Start(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = new Process { StartInfo = start };
        var lines = new OutputLines(process);
        process.OutputDataReceived += (_, e) => lines.Received(e.Data);
        process.ErrorDataReceived += (_, e) => lines.Received(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return lines;
    }

    private void Received(string? line)
    {
        lock (_gate)
        {
            if (line is null)
            {
                if (--_open == 0)
                {
                    _closed.TrySetResult();
                }
                return;
            }
            _text.Append(line).Append('\n');
            _waiting.RemoveAll(w => w(line));
        }
    }

    /// <summary>
    /// Waits until a line (printed from now on or already) satisfies <paramref name="match"/>; false when the process
    /// closed its output or <paramref name="timeout"/> passed first.
    /// </summary>
    public bool WaitForLine(Func<string, bool> match, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_text.ToString().Split('\n').Any(match))
            {
                return true;
            }
            _waiting.Add(line =>
            {
                if (!match(line))
                {
                    return false;
                }
                seen.TrySetResult();
                return true;
            });
        }
        var first = Task.WhenAny(seen.Task, _closed.Task, Task.Delay(timeout)).GetAwaiter().GetResult();
        return first == seen.Task;
    }

    /// <summary>Waits for the process to end and for both streams to be read to their end.</summary>
    public bool WaitForExit(TimeSpan timeout) => Process.WaitForExit(timeout) && _closed.Task.Wait(timeout);

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // Never started: nothing to stop.
        }
        Process.Dispose();
    }
}
