using Scheduler.Core.Scenarios;

namespace Scheduler.TestSupport;

/// <summary>Scenarios a test runs: loaded from the repository or parsed from text, and required to be valid.</summary>
public static class TestScenarios
{
    /// <summary>A scenario file of the repository (e.g. <c>scenarios/quickstart.yaml</c>); the test fails on its errors.</summary>
    public static Scenario Load(string relativePath) => Valid(ScenarioLoader.Load(RepoPaths.Of(relativePath)));

    /// <summary>Scenario text (named test.yaml in errors); the test fails on its errors.</summary>
    public static Scenario Parse(string yaml) => Valid(ScenarioLoader.Parse(yaml, "test.yaml"));

    /// <summary>The one error of a load that must fail with exactly one.</summary>
    public static ScenarioError OnlyError(ScenarioLoadResult result)
    {
        Assert.False(result.Ok);
        return Assert.Single(result.Errors);
    }

    private static Scenario Valid(ScenarioLoadResult result)
    {
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return result.Scenario!;
    }
}
