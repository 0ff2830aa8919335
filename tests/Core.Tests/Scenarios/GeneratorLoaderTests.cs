using Scheduler.Core.Scenarios;
using Scheduler.Core.Workloads;

namespace Scheduler.Core.Tests.Scenarios;

public sealed class GeneratorLoaderTests
{
    private const string Tenants = """
        name: fleet
        seed: 11
        duration: 1d
        generators:
          - tenants:
              count: 12
              idPrefix: t-
              limits: { fargateOnDemand: { burst: 50, perSecond: 10 } }
              clustersPerAccount: 3
              clusterPrefix: c
              cluster:
                zones: [a, b]
                capacityProviders:
                  - { name: mi, type: MANAGED_INSTANCES }
                  - { name: fargate, type: FARGATE }
                taskDefinitions:
                  - { family: batch, cpu: 256, memory: 512, runTime: 5m, containers: [ { name: job, image: acme/job:1 } ] }
                services:
                  - { name: frontend, taskDefinition: batch, desiredCount: 2, capacityProvider: fargate }
              services:
                count: { min: 1, max: 4 }
                namePrefix: svc-
                capacityProvider: mi
                desiredCount: { median: 3, sigma: 1, min: 1, max: 40 }
                sizes:
                  - { cpu: 256, memory: 512, weight: 3 }
                  - { cpu: 2048, memory: 8192 }
              arrivals:
                - { taskDefinition: batch, capacityProvider: fargate, process: poisson, ratePerHour: 2, count: { min: 1, max: 10 } }
                - { taskDefinition: batch, capacityProvider: mi, process: bursts, every: 6h, size: 25, from: 1h }
        timeline:
          - { at: 2h, updateService: { account: t-07, cluster: c2, service: svc-01, desiredCount: 9 } }
        """;

    private static ScenarioLoadResult Load(string text, string name = "gen.yaml")
    {
        var result = ScenarioLoader.Parse(text, name);
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return result;
    }

    [Fact]
    public void Tenants_expand_into_separate_accounts_each_with_its_own_limits_clusters_and_services()
    {
        var s = Load(Tenants).Scenario!;
        Assert.Equal(Enumerable.Range(1, 12).Select(i => $"t-{i:D2}"), s.Accounts.Select(a => a.Id));
        foreach (var account in s.Accounts)
        {
            Assert.Equal(new BucketLimit(50, 10), account.Limits["fargateOnDemand"]);
            Assert.Equal(["c1", "c2", "c3"], account.Clusters.Select(c => c.Name));
            foreach (var cluster in account.Clusters)
            {
                Assert.Equal(["a", "b"], cluster.Zones);
                Assert.Equal("frontend", cluster.Services[0].Name);
                var generated = cluster.Services.Skip(1).ToList();
                Assert.InRange(generated.Count, 1, 4);
                Assert.All(generated, svc =>
                {
                    Assert.InRange(svc.DesiredCount, 1, 40);
                    var td = cluster.TaskDefinitions.Single(t => t.Family == svc.TaskDefinition);
                    Assert.Contains((td.Cpu, td.Memory), new (int?, int?)[] { (256, 512), (2048, 8192) });
                    Assert.Equal("mi", svc.CapacityProviderStrategy.Single().CapacityProvider);
                });
            }
        }
        // Draws differ between clusters (they are keyed by account and cluster), so the fleet is not 36 copies.
        Assert.True(s.Accounts.SelectMany(a => a.Clusters).Select(c => string.Join(",", c.Services.Select(x => x.DesiredCount))).Distinct().Count() > 5);
    }

    [Fact]
    public void Arrivals_become_run_task_calls_of_each_generated_cluster_and_the_timeline_can_name_generated_services()
    {
        var s = Load(Tenants).Scenario!;
        var runs = s.Timeline.Select(e => (e.At, Action: e.Action as RunTaskAction)).Where(e => e.Action is not null).ToList();
        // Bursts at 1h, 7h, 13h, 19h of 25 tasks: calls of 10, 10 and 5 in each of 36 clusters.
        var bursts = runs.Where(r => r.Action!.CapacityProvider == "mi").ToList();
        Assert.Equal(36 * 4 * 3, bursts.Count);
        Assert.Equal(36 * 4 * 25, bursts.Sum(b => b.Action!.Count));
        var poisson = runs.Where(r => r.Action!.CapacityProvider == "fargate").ToList();
        Assert.InRange(poisson.Count, 36 * 48 * 0.7, 36 * 48 * 1.3);
        Assert.All(poisson, p => Assert.InRange(p.Action!.Count, 1, 10));
        Assert.Equal(s.Timeline.OrderBy(e => e.At).Select(e => e.At), s.Timeline.Select(e => e.At));
        Assert.Contains(s.Timeline, e => e.Action is UpdateServiceAction { Account: "t-07", Cluster: "c2", Service: "svc-01", DesiredCount: 9 });
    }

    [Fact]
    public void The_same_seed_generates_the_same_fleet_and_another_seed_a_different_one()
    {
        static string Shape(Scenario s) => string.Join(";", s.Accounts.SelectMany(a => a.Clusters.Select(c =>
            $"{a.Id}/{c.Name}:{string.Join(",", c.Services.Select(x => $"{x.Name}={x.DesiredCount}"))}"))) + "|" + string.Join(",", s.Timeline.Select(e => e.At.TotalMilliseconds));
        var a = Shape(Load(Tenants).Scenario!);
        Assert.Equal(a, Shape(Load(Tenants).Scenario!));
        Assert.NotEqual(a, Shape(Load(Tenants.Replace("seed: 11", "seed: 12")).Scenario!));
    }

    [Fact]
    public void Generator_errors_name_line_column_and_field()
    {
        var result = ScenarioLoader.Parse("""
            name: bad
            generators:
              - tenants:
                  count: 0
                  cluster:
                    capacityProviders: [ { name: f, type: FARGATE } ]
                    taskDefinitions: [ { family: j, cpu: 256, memory: 512, containers: [ { name: c, image: i } ] } ]
                  services:
                    count: { mean: 2 }
                    desiredCount: 3
                    sizes: [ { cpu: 300, memory: 512 } ]
                  arrivals:
                    - { taskDefinition: jj, process: poisson, every: 1h }
              - arrivals: { account: nobody, cluster: x, taskDefinition: j, process: weekly }
              - traceReplay: { path: nowhere, fleet: external, timeScale: 0, gpuModels: { G2: H100 } }
            """, "bad.yaml");
        Assert.False(result.Ok);
        Assert.Equal(
        [
            (4, 14, "generators[0].tenants.count"),
            (9, 16, "generators[0].tenants.services.count.stddev"),
            (11, 18, "generators[0].tenants.services.sizes[0]"),
            (13, 11, "generators[0].tenants.arrivals[0].ratePerHour"),
            (13, 29, "generators[0].tenants.arrivals[0].taskDefinition"),
            (13, 58, "generators[0].tenants.arrivals[0].every"),
            (14, 26, "generators[1].arrivals.account"),
            (14, 74, "generators[1].arrivals.process"),
            (15, 63, "generators[2].traceReplay.timeScale"),
            (15, 83, "generators[2].traceReplay.gpuModels.G2"),
        ], result.Errors.Select(e => (e.Line, e.Column, e.Field)));
        Assert.Contains("not a Fargate task size", result.Errors[2].Message);
        Assert.Contains("unknown task definition 'jj'", result.Errors[4].Message);
        Assert.Contains("'every' does not apply to poisson arrivals", result.Errors[5].Message);
        Assert.Contains("no GPU model 'H100'", result.Errors[^1].Message);
    }

    [Fact]
    public void A_missing_trace_folder_is_reported_at_the_path()
    {
        var result = ScenarioLoader.Parse("""
            name: t
            generators:
              - traceReplay: { path: no/such/folder }
            """, Path.Combine(Path.GetTempPath(), "t.yaml"));
        var error = Assert.Single(result.Errors);
        Assert.Equal((3, 26, "generators[0].traceReplay.path"), (error.Line, error.Column, error.Field));
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public void A_trace_replay_loads_pods_and_nodes_from_files_next_to_the_scenario()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "trace"));
        folder.Write("trace/openb_pod_list_default.csv", """
            name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
            p0,1000,1024,0,0,,BE,Running,0,10,0
            p1,8000,4096,1,500,,LS,Running,5,100,5
            p2,200000,4096,0,0,,Guaranteed,Pending,7,20,
            """);
        folder.Write("trace/openb_node_list_all_node.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,262144,2,T4\n");
        var result = ScenarioLoader.Load(folder.Write("replay.yaml", """
            name: replay
            generators:
              - traceReplay: { path: trace, account: ali, cluster: gpu, qos: { Guaranteed: runTask } }
            timeline:
              - { at: 1m, failZone: { account: ali, cluster: gpu, zone: a, for: 1h } }
            """));
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var plan = Assert.Single(result.TraceReplays);
        Assert.Equal([PodMapping.RunTask, PodMapping.Service, PodMapping.RunTask], plan.Pods.Select(p => p.Mapping));
        Assert.Equal([false, false, true], plan.Pods.Select(p => p.UnplaceableReason is not null));
        Assert.Equal("ali", Assert.Single(result.Scenario!.Accounts).Id);
        Assert.Equal(5, result.Scenario.Timeline.Count);
    }

    [Fact]
    public void Bad_trace_rows_are_listed_with_the_csv_file_line_and_column()
    {
        using var folder = new TempFolder();
        folder.Write("openb_pod_list_default.csv", """
            name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
            p0,1000,-5,0,0,,BE,Running,0,10,0
            """);
        folder.Write("openb_node_list_all_node.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,262144,0,\n");
        var result = ScenarioLoader.Load(folder.Write("replay.yaml", "name: r\ngenerators:\n  - traceReplay: { path: . }\n"));
        Assert.Equal(2, result.Errors.Count);
        Assert.Contains("the trace has 1 error(s)", result.Errors[0].Message);
        Assert.Equal((Path.Combine(folder.Path, "openb_pod_list_default.csv"), 2, 9, "memory_mib"),
            (result.Errors[1].File, result.Errors[1].Line, result.Errors[1].Column, result.Errors[1].Field));
    }
}
