using CsCheck;
using Scheduler.Core.Engine;

namespace Scheduler.Core.Tests.Cluster;

/// <summary>The one-pass census a service reports after reconciling agrees with the separate counts it replaces.</summary>
public sealed class ServiceCensusTests
{
    private static readonly string[] States = [TaskStates.Provisioning, TaskStates.Pending, TaskStates.Running, TaskStates.Deactivating, TaskStates.Stopping];
    private static readonly string[] Healths = [TaskHealth.Unknown, TaskHealth.Healthy, TaskHealth.Unhealthy];
    private static readonly string?[] Zones = [null, "a", "b", "c"];

    private static readonly Gen<ServiceTask> GenTask =
        Gen.Select(Gen.Int[0, States.Length - 1], Gen.Int[0, Healths.Length - 1], Gen.Int[0, Zones.Length - 1], Gen.Int[0, 3], Gen.Bool, Gen.Bool, Gen.Int[1, 3], Gen.Int[0, 2])
            .Select((state, health, zone, host, stopping, replace, deployment, protection) => new ServiceTask
            {
                State = States[state], Health = Healths[health], Zone = Zones[zone], Instance = host == 0 ? null : $"i-0000{host}",
                Stopping = stopping, Replace = replace, Deployment = deployment,
                HealthCheck = protection == 2 ? false : null,
                ProtectedUntilMs = protection == 1 ? 5_000 : 0,
            });

    [Fact]
    public void The_census_is_the_running_and_healthy_counts_the_protection_flag_and_the_doomed_zone_counts()
    {
        Gen.Select(GenTask.Array[0, 30], Gen.Int[0, 3], Gen.Int[1, 3], Gen.Bool).Sample((tasks, draining, deployment, healthCheck) =>
        {
            var model = new ServiceModel { Name = "web", TaskDefinition = "web:1", Deployment = deployment, HasHealthCheck = healthCheck };
            for (var i = 0; i < tasks.Length; i++)
            {
                model.Tasks[$"web-{i:D3}"] = tasks[i];
            }
            model.UpdateFleet(Enumerable.Range(1, draining).Select(n => $"i-0000{n}"), ["a", "b", "c"], rebalancing: true);
            var census = model.Census();
            Assert.Equal(model.Running, census.Running);
            Assert.Equal(model.Healthy, census.Healthy);
            Assert.Equal(model.AnyProtection(), census.AnyProtection);
            Assert.Equal(model.DoomedZoneCounts()?.ToList(), census.Doomed?.ToList());
        });
    }
}
