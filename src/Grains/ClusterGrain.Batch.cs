using Scheduler.Core.Batch;
using Scheduler.Core.Engine;

namespace Scheduler.Grains;

public sealed partial class ClusterGrain
{
    /// <summary>
    /// The RunTask calls the account's job queues made this tick (their RunTask and launch tokens are drawn
    /// already): each task enters PROVISIONING like any RunTask task, with its job as <c>startedBy</c>, and is
    /// placed in this tick.
    /// </summary>
    private void StartJobTasks(long nowMs, StartJobTasksAction start, List<SimEvent> events)
    {
        var setup = Setup;
        var s = state.State;
        foreach (var call in start.Calls)
        {
            var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, call.TaskDefinition)
                ?? throw new InvalidOperationException($"unknown task definition {call.TaskDefinition}");
            var templates = new Dictionary<string, TaskLaunchTemplate>(StringComparer.Ordinal);
            foreach (var task in call.Tasks)
            {
                if (!templates.TryGetValue(task.CapacityProvider, out var template))
                {
                    templates[task.CapacityProvider] = template =
                        TaskLaunches.Template(def, null, task.CapacityProvider, call.RunTime, loadBalancer: false, assignPublicIp: true);
                }
                var id = $"run-{s.NextStandaloneNumber++:D5}";
                Enqueue(template.Create(id, nowMs, setup.Run.Seed) with { StartedBy = task.StartedBy }, nowMs, events);
            }
        }
    }
}
