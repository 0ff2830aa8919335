using CsCheck;
using Scheduler.Client.Live;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client.Tests.Live;

/// <summary>
/// The live model answers Describe and List from indexes it keeps as task events arrive (counts, desired-status sets,
/// tasks by service and by instance, stopped tasks to forget in order). Whatever the events, RunTask and StopTask calls
/// and sweeps, the indexes must say what a walk over every task would.
/// </summary>
public sealed class LiveModelIndexTests
{
    private const string ScenarioText = """
        name: index
        accounts:
          - id: "444444444444"
            clusters:
              - name: prod
                capacityProviders: [ { name: FARGATE, type: FARGATE } ]
                taskDefinitions:
                  - { family: web, cpu: 256, memory: 512, containers: [ { name: app, image: a, cpu: 256, memory: 512 } ] }
                services:
                  - { name: web, taskDefinition: web, desiredCount: 1 }
                  - { name: api, taskDefinition: web, desiredCount: 1 }
        """;

    private static readonly string[] States =
        [TaskStates.Provisioning, TaskStates.Pending, TaskStates.Activating, TaskStates.Running, TaskStates.Deactivating, TaskStates.Stopping,
         TaskStates.Stopped];

    /// <summary>One step: an engine event for a task, a RunTask (a task the API adds), a StopTask, or a sweep.</summary>
    private sealed record Step(int Kind, int Task, int State, int Service, int Instance, int Advance);

    private static readonly Gen<Step> Steps = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 11], Gen.Int[0, States.Length - 1], Gen.Int[0, 2], Gen.Int[0, 2],
        Gen.Int[0, 30_000]).Select((k, t, s, svc, i, a) => new Step(k, t, s, svc, i, a));

    [Fact]
    public void The_indexes_agree_with_a_walk_over_every_task()
    {
        var scenario = ScenarioLoader.Parse(ScenarioText, "index.yaml").Scenario!;
        Steps.Array[1, 120].Sample(steps =>
        {
            var model = new LiveModel(scenario, InstanceTypeCatalog.Default) { RetainMs = 60_000 };
            var cluster = model.Accounts["444444444444"].Clusters["prod"];
            var now = 0L;
            foreach (var step in steps)
            {
                now += step.Advance;
                var id = $"t{step.Task}";
                switch (step.Kind)
                {
                    case 0:
                        model.Sweep(now);
                        break;
                    case 1 when !cluster.Tasks.ContainsKey(id):
                        cluster.AddTask(new LiveTask(id, "web:1", now) { CapacityProvider = "FARGATE" });
                        break;
                    case 2 when cluster.Tasks.TryGetValue(id, out var task):
                        cluster.Change(task, t => t.DesiredStatus = TaskStates.Stopped);
                        break;
                    default:
                        model.Apply(new SimEvent
                        {
                            TimeMs = now, Kind = EventKinds.Task, Account = "444444444444", Cluster = "prod", Task = id,
                            State = States[step.State], Service = step.Service switch { 0 => "web", 1 => "api", _ => null },
                            Instance = step.Instance == 2 ? null : $"i-{step.Instance}",
                        });
                        break;
                }
                Check(cluster);
            }
            model.Sweep(now);
            Assert.DoesNotContain(cluster.Tasks.Values, t => t.LastStatus == TaskStates.Stopped && t.StoppedAtMs + 60_000 < now);
            Check(cluster);
        }, iter: 300);
    }

    private static void Check(LiveCluster cluster)
    {
        var all = cluster.Tasks.Values.ToList();
        Assert.Equal(all.Count(t => t.LastStatus == TaskStates.Running), cluster.RunningCount);
        Assert.Equal(all.Count(t => t.LastStatus is TaskStates.Provisioning or TaskStates.Pending or TaskStates.Activating), cluster.PendingCount);
        Assert.Equal(all.Count(t => t.LastStatus != TaskStates.Stopped), cluster.LiveCount);
        static List<string> Ordered(IEnumerable<LiveTask> tasks) => [.. tasks.OrderBy(t => t.CreatedAtMs).ThenBy(t => t.Id, StringComparer.Ordinal).Select(t => t.Id)];
        Assert.Equal(Ordered(all.Where(t => t.DesiredStatus != TaskStates.Stopped)), cluster.DesiredRunning.Select(t => t.Id).ToList());
        Assert.Equal(Ordered(all.Where(t => t.DesiredStatus == TaskStates.Stopped)), cluster.DesiredStopped.Select(t => t.Id).ToList());
        foreach (var service in new[] { "web", "api" })
        {
            Assert.Equal(Ordered(all.Where(t => t.Service == service && t.LastStatus != TaskStates.Stopped)), Ordered(cluster.LiveTasksOf(service)));
        }
        foreach (var instance in new[] { "i-0", "i-1" })
        {
            Assert.Equal(Ordered(all.Where(t => t.Instance == instance && t.LastStatus != TaskStates.Stopped)), Ordered(cluster.LiveTasksOn(instance)));
        }
    }
}
