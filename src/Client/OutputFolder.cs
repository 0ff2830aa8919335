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
        if (NameProblem(dir, option) is { } problem)
        {
            return problem;
        }
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

    /// <summary>
    /// A path with a control character (a line break, a tab, an escape) makes a folder no shell lists or types
    /// plainly, and is nearly always a slip of a script: refused, with where the character is.
    /// </summary>
    public static string? NameProblem(string path, string option)
    {
        if (path.Length == 0)
        {
            return $"{option}: the path is empty";
        }
        var at = Scheduler.Core.Scenarios.ScenarioFiles.ControlCharacterAt(path);
        if (at < 0)
        {
            return null;
        }
        return $"{option} {Scheduler.Core.Scenarios.ScenarioError.Printable(path)}: the path holds a control character (U+{(int)path[at]:X4} at position {at + 1}); give a path without line breaks, tabs or other control characters";
    }

    /// <summary>
    /// Checks a file a command writes at its end (e.g. a session's recording) before anything starts: not a folder, in
    /// a folder that exists and this process can write. Null when it can be written, else what is wrong.
    /// </summary>
    public static string? CheckFile(string file, string option)
    {
        if (NameProblem(file, option) is { } problem)
        {
            return problem;
        }
        if (Directory.Exists(file))
        {
            return $"{option} {file}: is a folder, not a file; give the path of the file to write";
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(file));
        if (folder is null || !Directory.Exists(folder))
        {
            return $"{option} {file}: the folder {folder} does not exist";
        }
        try
        {
            var probe = Path.Combine(folder, $".write-check-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose))
            {
            }
            if (File.Exists(file))
            {
                // An existing file is replaced at the end: it must be writable now.
                using var _ = new FileStream(file, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return $"{option} {file}: cannot write there ({e.Message})";
        }
    }
}
