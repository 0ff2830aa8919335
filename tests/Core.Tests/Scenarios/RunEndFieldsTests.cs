using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Scenarios;

/// <summary>Where a run ends (duration, or until settled within maxDuration) and the timeline entries past it.</summary>
public sealed class RunEndFieldsTests
{
    private static string Scenario(string end, params string[] timeline) => $"""
        name: end
        {end}
        accounts:
          - id: a
            clusters:
              - name: c
                capacityProviders: [ {"{"} name: f, type: FARGATE {"}"} ]
                taskDefinitions: [ {"{"} family: t, cpu: 256, memory: 512, containers: [ {"{"} name: a, image: i, cpu: 256, memory: 512 {"}"} ] {"}"} ]
        timeline:
        {string.Join("\n", timeline.Select(t => "  - { at: " + t + ", runTask: { account: a, cluster: c, taskDefinition: t, capacityProvider: f } }"))}
        """;

    [Fact]
    public void A_timeline_entry_after_the_end_of_the_run_is_a_warning_at_its_at_field()
    {
        var result = ScenarioLoader.Parse(Scenario("duration: 3d", "1h", "3d", "5d"), "s.yaml");
        Assert.True(result.Ok);
        var w = Assert.Single(result.Warnings);
        Assert.Equal((12, 11, "timeline[2].at"), (w.Line, w.Column, w.Field));
        Assert.Contains("at 5d is after the end of the run (duration 3d); this entry never happens", w.Message);
    }

    [Fact]
    public void Until_settled_stops_at_max_duration_and_warns_of_entries_past_it()
    {
        var result = ScenarioLoader.Parse(Scenario("until: settled\nmaxDuration: 2d", "1d", "3d"), "s.yaml");
        Assert.True(result.Ok);
        Assert.Equal(TimeSpan.FromDays(2), result.Scenario!.MaxDuration);
        Assert.Equal(2L * 86_400_000, SimulationLimits.EndMs(result.Scenario));
        Assert.Contains("after the run's maxDuration (2d)", Assert.Single(result.Warnings).Message);

        var unbounded = ScenarioLoader.Parse(Scenario("until: settled", "500d"), "s.yaml");
        Assert.Equal(400L * 86_400_000, SimulationLimits.EndMs(unbounded.Scenario!));
        Assert.Contains("maxDuration (400d)", Assert.Single(unbounded.Warnings).Message);
    }

    [Fact]
    public void Max_duration_with_a_fixed_duration_is_an_error()
    {
        var result = ScenarioLoader.Parse(Scenario("duration: 1d\nmaxDuration: 2d", "1h"), "s.yaml");
        var e = Assert.Single(result.Errors);
        Assert.Equal((3, 14, "maxDuration"), (e.Line, e.Column, e.Field));
        Assert.Contains("bounds an 'until: settled' run", e.Message);
    }
}
