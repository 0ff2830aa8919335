using System.Text;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;
using Scheduler.Core.Tests.Cluster;

namespace Scheduler.Core.Tests.ClusterScenarios;

/// <summary>Scenario builders and event-log checks for the launch tests.</summary>
public static class LaunchLog
{
    private const string Providers = """
                capacityProviders:
                  - { name: fargate, type: FARGATE }
                  - { name: spot, type: FARGATE_SPOT }
                  - { name: ec2, type: EC2, instanceTypes: [m5.24xlarge], initialInstances: 12, maxInstances: 50 }
        """;

    private static string Header(string name, string taskDefinitionNetwork, int cpu = 256, int memory = 512) => $$"""
        name: {{name}}
        seed: 5
        until: settled
        accounts:
          - id: acct
            clusters:
              - name: c1
        {{Providers}}
                taskDefinitions:
                  - family: app
                    cpu: {{cpu}}
                    memory: {{memory}}
                    networkMode: {{taskDefinitionNetwork}}
                    containers:
                      - { name: app, image: bench/app:1, imageSizeMiB: 100, cpu: {{cpu}}, memory: {{memory}},
                          healthCheck: { startPeriod: 0s, interval: 10s, healthyThreshold: 2 } }

        """;

    /// <summary><paramref name="services"/> services of <paramref name="tasks"/> tasks on "fargate", "ec2" or a 50/50 "mix".</summary>
    public static string Services(string capacity, int services, int tasks)
    {
        var sb = new StringBuilder(Header($"services-{capacity}", capacity == "ec2" ? "bridge" : "awsvpc"));
        sb.AppendLine("        services:");
        for (var i = 0; i < services; i++)
        {
            var placement = capacity == "mix"
                ? "capacityProviderStrategy: [ { capacityProvider: fargate, weight: 1 }, { capacityProvider: spot, weight: 1 } ]"
                : $"capacityProvider: {capacity}";
            sb.AppendLine($"          - {{ name: svc{i}, taskDefinition: app, desiredCount: {tasks}, {placement} }}");
        }
        return sb.ToString();
    }

    /// <summary>RunTask calls of 10 tasks: <paramref name="firstSecondCalls"/> at t=0, then <paramref name="callsPerSecond"/> each second.</summary>
    public static string RunTaskBurst(string capacityProvider, int firstSecondCalls, int callsPerSecond, int seconds)
    {
        var sb = new StringBuilder(Header("runtask-burst", "bridge", cpu: 32, memory: 64));
        sb.AppendLine("timeline:");
        for (var t = 0; t <= seconds; t++)
        {
            for (var i = 0; i < (t == 0 ? firstSecondCalls : callsPerSecond); i++)
            {
                sb.AppendLine($"  - {{ at: {t}s, runTask: {{ account: acct, cluster: c1, taskDefinition: app, count: 10, capacityProvider: {capacityProvider} }} }}");
            }
        }
        return sb.ToString();
    }

    /// <summary>At t=0, <paramref name="callsEach"/> RunTask calls of 10 tasks on On-Demand, then as many on Spot and on EC2, interleaved.</summary>
    public static string RunTaskMix(int callsEach)
    {
        var sb = new StringBuilder(Header("runtask-mix", "awsvpc"));
        sb.AppendLine("timeline:");
        for (var i = 0; i < callsEach; i++)
        {
            foreach (var cp in new[] { "fargate", "spot", "ec2" })
            {
                sb.AppendLine($"  - {{ at: 0s, runTask: {{ account: acct, cluster: c1, taskDefinition: app, count: 10, capacityProvider: {cp} }} }}");
            }
        }
        return sb.ToString();
    }

    public static Dictionary<long, int> ProvisioningPerSecond(IEnumerable<SimEvent> events) =>
        events.Where(e => e.Kind == EventKinds.Task && e.State == TaskStates.Provisioning)
            .GroupBy(e => e.TimeMs / 1000).ToDictionary(g => g.Key, g => g.Count());

    public static int LaunchedBy(IEnumerable<SimEvent> events, long ms) =>
        events.Count(e => e.Kind == EventKinds.Task && e.State == TaskStates.Provisioning && e.TimeMs <= ms);

    /// <summary>
    /// The contract check from events.jsonl alone: for every account and Fargate launch
    /// bucket, the tasks that entered PROVISIONING in [0, t] never exceed burst + rate × t.
    /// </summary>
    public static void AssertWithinBuckets(IReadOnlyList<SimEvent> events, Scenario scenario)
    {
        foreach (var account in scenario.Accounts)
        {
            var types = account.Clusters.SelectMany(c => c.CapacityProviders.Select(cp => (c.Name, cp.Name, cp.Type)))
                .ToDictionary(x => (x.Item1, x.Item2), x => x.Type);
            foreach (var bucket in new[] { Core.RateLimits.BucketNames.FargateOnDemand, Core.RateLimits.BucketNames.FargateSpot })
            {
                var limit = Core.RateLimits.BucketNames.Limit(account.Limits, bucket);
                var launched = 0;
                foreach (var e in events.Where(e => e.Kind == EventKinds.Task && e.State == TaskStates.Provisioning && e.Account == account.Id))
                {
                    if (Core.RateLimits.BucketNames.LaunchBucket(types[(e.Cluster, e.CapacityProvider!)]) != bucket)
                    {
                        continue;
                    }
                    launched++;
                    var allowed = limit.Burst + limit.PerSecond * e.TimeMs / 1000.0;
                    Assert.True(launched <= allowed + 1e-6, $"{account.Id} {bucket}: {launched} launches by t={e.TimeMs / 1000.0}s, allowed {allowed}");
                }
            }
        }
    }
}
