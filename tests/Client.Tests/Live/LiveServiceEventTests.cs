using Scheduler.Client.Live;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client.Tests.Live;

/// <summary>
/// DescribeServices lists what ECS's service scheduler says about a service: the tasks it started and stopped (those
/// of one instant on one line) and when it reached a steady state, newest first, at most 100.
/// </summary>
public sealed class LiveServiceEventTests
{
    private const string ScenarioText = """
        name: history
        accounts:
          - id: "555555555555"
            clusters:
              - name: prod
                capacityProviders: [ { name: FARGATE, type: FARGATE } ]
                taskDefinitions:
                  - { family: web, cpu: 256, memory: 512, containers: [ { name: app, image: a, cpu: 256, memory: 512 } ] }
                services:
                  - { name: web, taskDefinition: web, desiredCount: 2 }
        """;

    private readonly LiveModel _model = new(ScenarioLoader.Parse(ScenarioText, "history.yaml").Scenario!, InstanceTypeCatalog.Default);

    private LiveService Web => _model.Accounts["555555555555"].Clusters["prod"].Services["web"];

    private void Task(long t, string id, string state, string? reason = null) => _model.Apply(new SimEvent
    {
        TimeMs = t, Kind = EventKinds.Task, Account = "555555555555", Cluster = "prod", Task = id, State = state,
        Service = "web", Reason = reason,
    });

    private void Counts(long t, int desired, int running) => _model.Apply(new SimEvent
    {
        TimeMs = t, Kind = EventKinds.Service, Account = "555555555555", Cluster = "prod", Service = "web",
        Desired = desired, Running = running, Healthy = running,
    });

    private string[] Messages => Web.History.NewestFirst.Select(e => e.Message).ToArray();

    [Fact]
    public void Tasks_started_together_share_a_line_and_a_steady_state_is_said_once()
    {
        Task(1_000, "a", TaskStates.Provisioning);
        Task(1_000, "b", TaskStates.Provisioning);
        Counts(1_000, 2, 0);
        Task(40_000, "a", TaskStates.Running);
        Counts(40_000, 2, 1);
        Task(41_000, "b", TaskStates.Running);
        Counts(41_000, 2, 2);
        Counts(50_000, 2, 2);

        Assert.Equal(["(service web) has reached a steady state.", "(service web) has started 2 tasks: (task a) (task b)."], Messages);
        var steady = Web.History.NewestFirst.First();
        Assert.Equal(41_000, steady.AtMs);
        Assert.True(Guid.TryParse(steady.Id, out _));
        Assert.Equal(2, Web.History.NewestFirst.Select(e => e.Id).Distinct().Count());
    }

    [Fact]
    public void A_scale_in_stop_is_listed_once_and_other_stops_are_not()
    {
        Task(1_000, "a", TaskStates.Provisioning);
        Task(1_000, "b", TaskStates.Provisioning);
        Task(2_000, "a", TaskStates.Running);
        Task(2_000, "b", TaskStates.Running);
        Counts(2_000, 2, 2);
        Task(9_000, "a", TaskStates.Deactivating, "Scaling activity initiated by (deployment ecs-svc/1)");
        Task(9_000, "a", TaskStates.Stopping, "Scaling activity initiated by (deployment ecs-svc/1)");
        Task(9_500, "a", TaskStates.Stopped, "Scaling activity initiated by (deployment ecs-svc/1)");
        Task(9_600, "b", TaskStates.Stopped, "Essential container in task exited");
        Counts(9_600, 1, 0);

        Assert.Equal("(service web) has stopped 1 running tasks: (task a).", Messages[0]);
        Assert.Equal(1, Messages.Count(m => m.Contains("has stopped", StringComparison.Ordinal)));
        Assert.DoesNotContain(Messages, m => m.Contains("(task b).", StringComparison.Ordinal) && m.Contains("stopped", StringComparison.Ordinal));
    }

    [Fact]
    public void Only_the_newest_hundred_lines_are_kept()
    {
        for (var i = 0; i < 150; i++)
        {
            Task(i * 1_000, $"t{i}", TaskStates.Provisioning);
        }
        Assert.Equal(LiveServiceHistory.Capacity, Web.History.NewestFirst.Count());
        Assert.Equal("(service web) has started 1 tasks: (task t149).", Messages[0]);
        Assert.Equal("(service web) has started 1 tasks: (task t50).", Messages[^1]);
    }
}
