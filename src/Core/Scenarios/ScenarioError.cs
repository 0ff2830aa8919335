using Scheduler.Core.Catalog;

namespace Scheduler.Core.Scenarios;

/// <summary>One problem in a scenario (or catalog) file. <see cref="Line"/> and <see cref="Column"/> are 1-based;
/// <see cref="Field"/> is a path such as <c>accounts[0].clusters[0].services[1].taskDefinition</c>
/// (empty for problems of the whole file).</summary>
public sealed record ScenarioError(string File, int Line, int Column, string Field, string Message)
{
    public override string ToString() =>
        Field.Length == 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Field}: {Message}";
}

/// <summary>The outcome of loading a scenario: a valid <see cref="Scenario"/>, or every error found.</summary>
public sealed class ScenarioLoadResult
{
    public ScenarioLoadResult(Scenario? scenario, IReadOnlyList<ScenarioError> errors, InstanceTypeCatalog? catalog = null,
        IReadOnlyList<ScenarioError>? warnings = null)
    {
        Warnings = warnings ?? [];
        Errors = errors;
        Scenario = errors.Count == 0 ? scenario : null;
        Catalog = Scenario is null ? null : catalog;
    }

    /// <summary>The scenario; null when there are errors.</summary>
    public Scenario? Scenario { get; }
    /// <summary>All errors, in file order (errors of a referenced catalog file follow the scenario's own).</summary>
    public IReadOnlyList<ScenarioError> Errors { get; }
    /// <summary>Things that are allowed but probably not meant (e.g. a timeline entry after the end of the run);
    /// <c>--strict</c> makes them errors.</summary>
    public IReadOnlyList<ScenarioError> Warnings { get; }
    /// <summary>The instance type catalog the scenario runs with (built-in, or its <c>instanceCatalog</c> file).</summary>
    public InstanceTypeCatalog? Catalog { get; }
    public bool Ok => Scenario is not null;
    /// <summary>The scenario's trace replays (pods, their mapping and static fit), for accounting and reports.</summary>
    public IReadOnlyList<Workloads.TraceReplayPlan> TraceReplays { get; init; } = [];
}
