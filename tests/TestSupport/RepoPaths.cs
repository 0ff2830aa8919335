namespace Scheduler.TestSupport;

/// <summary>The repository a test runs in: found from the test's own binaries upwards, by the solution file.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootDir = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Scheduler.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException($"no Scheduler.sln above {AppContext.BaseDirectory}");
    });

    /// <summary>The folder that holds Scheduler.sln.</summary>
    public static string Root() => RootDir.Value;

    /// <summary>A path inside the repository, e.g. <c>scenarios/quickstart.yaml</c>.</summary>
    public static string Of(string relative) => Path.Combine(Root(), relative);
}
