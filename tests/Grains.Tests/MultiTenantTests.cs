using Scheduler.Core.Tests.ClusterScenarios;
using Scheduler.Core.Engine;
using Scheduler.Core.RateLimits;

namespace Scheduler.Grains.Tests;

/// <summary>Issue 7: generated tenants keep their buckets to themselves, whatever the others do.</summary>
public sealed class MultiTenantTests(LaunchClusterFixture fixture) : IClassFixture<LaunchClusterFixture>
{
    [Fact]
    public async Task Every_generated_account_is_throttled_on_its_own_RunTask_bucket_and_no_other()
    {
        // The bundled multi-tenant-1000 scenario's template at 30 tenants: at 1h every account sends 8 RunTask
        // calls of 10 tasks against its own bucket of 5 calls. Shared buckets would grant 5 in all, not 5 each.
        var scenario = TestScenarios.Parse("""
            name: multi-tenant-30
            seed: 1000
            duration: 1h1m
            tick: 1s
            generators:
              - tenants:
                  count: 30
                  idPrefix: tenant-
                  limits: { runTask: { burst: 5, perSecond: 1 } }
                  clustersPerAccount: 2
                  clusterPrefix: cluster-
                  cluster:
                    zones: [a, b, c]
                    capacityProviders:
                      - { name: fargate, type: FARGATE }
                    taskDefinitions:
                      - family: job
                        cpu: 256
                        memory: 512
                        runTime: { mean: 10m, stddev: 3m, min: 1m }
                        containers:
                          - { name: job, image: tenant/job:1, imageSizeMiB: 150, cpu: 256, memory: 512 }
                  services:
                    count: { min: 1, max: 3 }
                    namePrefix: svc-
                    capacityProvider: fargate
                    desiredCount: { median: 2, sigma: 0.6, min: 1, max: 12 }
                    sizes:
                      - { cpu: 256, memory: 512, weight: 5 }
                    image: tenant/app:1
                    imageSizeMiB: 300
                  arrivals:
                    - { taskDefinition: job, capacityProvider: fargate, process: bursts, every: 1d, from: 1h, size: 80 }
            """);
        Assert.Equal(30, scenario.Accounts.Count);
        var (_, events) = await fixture.Run(scenario);

        foreach (var account in scenario.Accounts)
        {
            // Each cluster of the account sends its burst; the account's five calls go to the first in name order.
            var atBurst = events.Where(e => e.Account == account.Id && e.TimeMs == 3_600_000).ToList();
            var granted = atBurst.Count(e => e.Kind == EventKinds.Task && e.State == TaskStates.Provisioning && e.Service is null);
            var throttled = atBurst.Count(e => e.Kind == EventKinds.Throttle && e.Bucket == BucketNames.RunTask);
            Assert.True(granted == 50, $"{account.Id}: {granted} RunTask tasks started at 1h, expected 5 calls of 10");
            Assert.True(throttled == 11, $"{account.Id}: {throttled} RunTask calls throttled at 1h, expected 16 - 5");
        }
        LaunchLog.AssertWithinBuckets(events, scenario);
    }
}
