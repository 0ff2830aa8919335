using Scheduler.Core.Engine;
using Scheduler.Core.Tests.Cluster;

namespace Scheduler.Core.Tests.ClusterScenarios;

/// <summary>Whole flows through the cluster step: services placed on instances with zone spread, RunTask, updateService.</summary>
public sealed class EngineFlowTests
{
    private const string Fleet = """
        name: flow
        seed: 7
        duration: 30d
        accounts:
          - id: t1
            clusters:
              - name: c1
                zones: [a, b, c]
                capacityProviders:
                  - { name: mi, type: MANAGED_INSTANCES }
                  - { name: ec2, type: EC2, instanceTypes: [m6i.2xlarge], initialInstances: 3, maxInstances: 10 }
                taskDefinitions:
                  - family: web
                    containers:
                      - { name: app, image: web:1, imageSizeMiB: 200, cpu: 512, memoryReservation: 1024, memory: 2048,
                          healthCheck: { startPeriod: 10s, interval: 5s, healthyThreshold: 2 } }
                  - family: api
                    containers:
                      - { name: app, image: api:1, imageSizeMiB: 100, cpu: 1024, memoryReservation: 2048, memory: 2048 }
                  - family: batch
                    runTime: 2h
                    containers:
                      - { name: job, image: batch:1, cpu: 256, memory: 512 }
                services:
                  - { name: web, taskDefinition: web, desiredCount: 12, capacityProvider: mi }
                  - { name: api, taskDefinition: api, desiredCount: 6, capacityProvider: ec2 }
        timeline:
          - { at: 1h, runTask: { account: t1, cluster: c1, taskDefinition: batch, count: 10, capacityProvider: mi } }
          - { at: 2d, updateService: { account: t1, cluster: c1, service: web, desiredCount: 3 } }
          - { at: 10d, updateService: { account: t1, cluster: c1, service: api, desiredCount: 9 } }
        """;

    [Fact]
    public async Task A_month_of_fleet_life_runs_in_few_ticks_and_reaches_every_desired_count()
    {
        var scenario = TestScenarios.Parse(Fleet);
        var (_, ticks, events) = await Harness.RunAsync(scenario);

        // 30 simulated days at a 1 s tick would be 2,592,000 ticks; idle time must be skipped.
        Assert.InRange(ticks, 1, 2_000);

        // The log is in simulated-time order.
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.TimeMs <= p.Second.TimeMs));

        var lastService = events.Where(e => e.Kind == EventKinds.Service).GroupBy(e => e.Service!).ToDictionary(g => g.Key, g => g.Last());
        Assert.Equal((3, 3, 3), (lastService["web"].Desired, lastService["web"].Running, lastService["web"].Healthy));
        Assert.Equal((9, 9, 9), (lastService["api"].Desired, lastService["api"].Running, lastService["api"].Healthy));

        // Every batch task ran and exited by itself; nine web tasks were stopped by scale-in.
        var stopped = events.Where(e => e.Kind == EventKinds.Task && e.State == TaskStates.Stopped).ToList();
        Assert.Equal(10, stopped.Count(e => e.Service is null && e.Reason == StopReasons.EssentialExited));
        Assert.Equal(9, stopped.Count(e => e.Service == "web" && e.Reason == StopReasons.ScalingIn));

        // The 12 web tasks were spread 4/4/4 over the zones before the scale-in.
        var webZones = events.Where(e => e.Kind == EventKinds.Task && e.Service == "web" && e.State == TaskStates.Running && e.TimeMs < 86_400_000)
            .GroupBy(e => e.Task).Select(g => g.First().Zone).GroupBy(z => z).Select(g => g.Count()).Order().ToArray();
        Assert.Equal([4, 4, 4], webZones);

        // api runs only on the EC2 provider's pre-registered m6i.2xlarge instances (or new ones of that type).
        var instanceTypes = events.Where(e => e.Kind == EventKinds.Instance && e.State == InstanceStates.Launching)
            .ToDictionary(e => e.Instance!, e => (e.InstanceType, e.CapacityProvider));
        var apiHosts = events.Where(e => e.Kind == EventKinds.Task && e.Service == "api" && e.Instance is not null).Select(e => e.Instance!).Distinct();
        Assert.All(apiHosts, h => Assert.Equal(("m6i.2xlarge", "ec2"), instanceTypes[h]));
    }

    [Fact]
    public async Task Tasks_walk_the_ECS_lifecycle_in_order()
    {
        var scenario = TestScenarios.Parse(Fleet);
        var (_, _, events) = await Harness.RunAsync(scenario);
        string[] order = [TaskStates.Provisioning, TaskStates.Pending, TaskStates.Activating, TaskStates.Running,
            TaskStates.Deactivating, TaskStates.Stopping, TaskStates.Deprovisioning, TaskStates.Stopped];
        foreach (var task in events.Where(e => e.Kind == EventKinds.Task).GroupBy(e => e.Task))
        {
            var states = task.Select(e => e.State!).Distinct().ToList();
            var indexes = states.Select(s => Array.IndexOf(order, s)).ToList();
            Assert.True(indexes.SequenceEqual(indexes.Order()), $"{task.Key}: {string.Join(" > ", states)}");
            Assert.Equal(TaskStates.Provisioning, states[0]);
            Assert.True(task.Count(e => e.State == TaskStates.Stopped) <= 1);
        }
    }
}
