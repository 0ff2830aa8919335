using System.Diagnostics;
using Scheduler.Core.Scenarios;
using Spectre.Console;

namespace Scheduler.Client;

/// <summary>
/// Lines that say how far the load of a large scenario has come, so that a file of a million timeline entries does not
/// look hung: the first when the loader first reports, then at most one every two seconds.
/// </summary>
internal static class LoadProgressLines
{
    public static Action<ScenarioLoadProgress> For(IAnsiConsole console, string path)
    {
        var since = new Stopwatch();
        return p =>
        {
            if (since.IsRunning && since.ElapsedMilliseconds < 2_000)
            {
                return;
            }
            since.Restart();
            console.WriteLine($"loading {ScenarioError.Printable(path)}: {p.TimelineEntries:N0} timeline entries and {p.Entities:N0} accounts, clusters, task definitions, services and the like so far");
        };
    }
}
