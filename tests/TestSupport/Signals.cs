using System.Diagnostics;
using System.Globalization;

namespace Scheduler.TestSupport;

/// <summary>POSIX signals to a process a test started, as a shell's <c>kill</c> sends them.</summary>
public static class Signals
{
    /// <summary>
    /// Sends <paramref name="signal"/> (INT, TERM, ...) to <paramref name="pid"/>, <paramref name="times"/> times back to
    /// back: one kill process signals a pid as often as it is named.
    /// </summary>
    public static void Send(int pid, string signal, int times = 1)
    {
        var id = pid.ToString(CultureInfo.InvariantCulture);
        using var kill = Process.Start("kill", ["-" + signal, .. Enumerable.Repeat(id, times)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
