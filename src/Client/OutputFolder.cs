namespace Scheduler.Client;

/// <summary>
/// The output folder of a run: its default place under <c>runs/</c>, and the checks made before anything starts
/// (it must be a folder this process can write), and clearing what an earlier run left in it.
/// </summary>
public static class OutputFolder
{
    /// <summary>The files a run writes; an earlier run's copies are deleted before a run starts. Other files are kept.</summary>
    public static readonly IReadOnlyList<string> RunFilePatterns =
        ["events.jsonl", "summary.json", "metrics.csv", "report.html", "explain-*.txt", "error.log"];

    /// <summary>
    /// The scenario name as one safe folder name: every character other than a letter, a digit, '-', '_' or '.'
    /// becomes '_', and so does a leading '.', so the name can never reach outside the output root.
    /// </summary>
    public static string SafeName(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        if (chars.Length == 0)
        {
            return "_";
        }
        if (chars[0] == '.')
        {
            chars[0] = '_';
        }
        return new string(chars);
    }

    /// <summary>The default output folder of a scenario: <c>runs/&lt;safe name&gt;</c>.</summary>
    public static string Default(string scenarioName) => Path.Combine("runs", SafeName(scenarioName));

    /// <summary>
    /// Makes sure <paramref name="dir"/> is a folder this process can write (creating it if needed) and deletes an
    /// earlier run's files in it. Returns null on success, else what is wrong (for an exit-2 message).
    /// </summary>
    public static string? Prepare(string dir, string option = "--out", bool clearEarlierRun = true)
    {
        try
        {
            if (File.Exists(dir))
            {
                return $"{option} {dir}: is a file, not a folder; give a folder for the run's outputs";
            }
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".write-check-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose))
            {
            }
            foreach (var pattern in clearEarlierRun ? RunFilePatterns : [])
            {
                foreach (var stale in Directory.EnumerateFiles(dir, pattern))
                {
                    File.Delete(stale);
                }
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return $"{option} {dir}: cannot write there ({e.Message})";
        }
    }
}
