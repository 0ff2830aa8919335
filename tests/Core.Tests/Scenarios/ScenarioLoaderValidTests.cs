using System.Text.Json;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Scenarios;

public sealed class ScenarioLoaderValidTests
{
    private static ScenarioLoadResult LoadFull(string fileName, string text)
    {
        using var folder = new TempFolder();
        folder.Write("catalog.yaml", Samples.Catalog);
        var result = ScenarioLoader.Load(folder.Write(fileName, text));
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(Path.Combine(folder.Path, "catalog.yaml"), result.Scenario!.InstanceCatalog);
        return result;
    }

    [Fact]
    public void Full_scenario_parses_to_the_expected_model()
    {
        var result = LoadFull("quickstart.yaml", Samples.FullYaml);
        var s = result.Scenario!;

        Assert.Equal("quickstart", s.Name);
        Assert.Equal(7, s.Seed);
        Assert.Equal(new DateTimeOffset(2026, 2, 2, 6, 0, 0, TimeSpan.Zero), s.Start);
        Assert.Equal(TimeSpan.FromDays(3), s.Duration);
        Assert.False(s.UntilSettled);
        Assert.Equal(TimeSpan.FromMilliseconds(500), s.Tick);
        Assert.Equal("1.19.2", s.InitialAmi);
        Assert.Equal(new[] { "m5.2xlarge", "m5.large", "c5.xlarge", "r5.metal", "g4dn.xlarge" }.Order(StringComparer.Ordinal),
            result.Catalog!.Types.Select(t => t.Name));

        Assert.Equal(["acme", "globex"], s.Accounts.Select(a => a.Id));
        var acme = s.Accounts[0];
        Assert.Equal(2, acme.Limits.Count);
        Assert.Equal(new BucketLimit(100, 20), acme.Limits["fargateOnDemand"]);
        Assert.Equal(new BucketLimit(50, 2.5), acme.Limits["runTask"]);
        Assert.Empty(s.Accounts[1].Limits);

        var prod = Assert.Single(acme.Clusters);
        Assert.Equal("prod", prod.Name);
        Assert.Equal(["a", "b", "c"], prod.Zones);
        Assert.Equal(["mi", "fargate", "ec2", "spot", "onprem"], prod.CapacityProviders.Select(c => c.Name));
        Assert.Equal([CapacityType.ManagedInstances, CapacityType.Fargate, CapacityType.Ec2, CapacityType.FargateSpot, CapacityType.External],
            prod.CapacityProviders.Select(c => c.Type));

        var mi = prod.CapacityProviders[0];
        var req = mi.InstanceRequirements!;
        Assert.Equal(new Range<double>(2, 64), req.Vcpu);
        Assert.Equal(new Range<long>(4096, null), req.MemoryMiB);
        Assert.Equal(new Range<double>(2048, 8192), req.MemoryMiBPerVcpu);
        Assert.Equal(["c", "m", "r"], req.Families);
        Assert.Equal(["g"], req.ExcludedFamilies);
        Assert.Empty(req.AllowedTypes);
        Assert.Equal(["m5.large"], req.ExcludedTypes);
        Assert.Equal(new Range<int>(null, 0), req.Gpus);
        Assert.Empty(req.GpuModels);
        Assert.Equal(BareMetal.Included, req.BareMetal);
        Assert.Equal(new MaintenanceWindow(DayOfWeek.Sunday, TimeSpan.FromHours(2), TimeSpan.FromHours(4)), mi.MaintenanceWindow);
        Assert.Equal(["c5.xlarge", "m5.2xlarge"], result.Catalog.Select(req).Select(t => t.Name));

        var ec2 = prod.CapacityProviders[2];
        Assert.Equal(["m5.2xlarge"], ec2.InstanceTypes);
        Assert.Equal(2, ec2.InitialInstances);
        Assert.Equal(200, ec2.MaxInstances);
        Assert.Null(ec2.InstanceRequirements);
        Assert.Equal(10_000, prod.CapacityProviders[1].MaxInstances);
        Assert.Equal([new ExternalInstanceSpec(32, 131072, 10, 2)], prod.CapacityProviders[4].Instances);

        Assert.Equal(["web:1", "web:2", "batch:1"], prod.TaskDefinitions.Select(t => $"{t.Family}:{t.Revision}"));
        var web = prod.TaskDefinitions[0];
        Assert.Equal(512, web.Cpu);
        Assert.Equal(1024, web.Memory);
        Assert.Equal(NetworkMode.Awsvpc, web.NetworkMode);
        Assert.Equal(TimeSpan.FromSeconds(30), web.StopTimeout);
        Assert.Null(web.RunTime);
        Assert.Empty(web.PlacementConstraints);
        var app = web.Containers[0];
        Assert.Equal(("app", "acme/web:1.4", 300, 256, 512, 1024, 0, true),
            (app.Name, app.Image, app.ImageSizeMiB, app.Cpu, app.MemoryReservation, app.Memory, app.Gpus, app.Essential));
        Assert.Equal(new MemoryUsageSpec(600, 40), app.Usage);
        Assert.Equal(new HealthCheckSpec(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), 2), app.HealthCheck);
        Assert.Equal([new PortMapping(8080, null)], app.PortMappings);
        var sidecar = web.Containers[1];
        Assert.Equal(("sidecar", "envoy:1.30", 100, 64, 128, null, false),
            (sidecar.Name, sidecar.Image, sidecar.ImageSizeMiB, sidecar.Cpu, sidecar.MemoryReservation, sidecar.Memory, sidecar.Essential));
        Assert.Null(sidecar.Usage);
        Assert.Null(sidecar.HealthCheck);

        var web2 = prod.TaskDefinitions[1];
        Assert.Equal((1024, 2048), (web2.Cpu, web2.Memory));
        Assert.Equal((1024, 2048, 0), (web2.ReservedCpu, web2.ReservedMemoryMiB, web2.ReservedGpus));
        Assert.Equal(100, web2.Containers[0].ImageSizeMiB);
        Assert.Null(web2.Containers[0].Memory);

        var batch = prod.TaskDefinitions[2];
        Assert.Null(batch.Cpu);
        Assert.Null(batch.Memory);
        Assert.Equal(NetworkMode.Bridge, batch.NetworkMode);
        Assert.Equal(TimeSpan.FromMinutes(2), batch.StopTimeout);
        Assert.Equal(new DurationDistribution(TimeSpan.FromHours(2), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30)), batch.RunTime);
        Assert.Equal([new PlacementConstraintSpec(PlacementConstraintType.DistinctInstance, null),
            new PlacementConstraintSpec(PlacementConstraintType.MemberOf, "attribute:ecs.instance-type =~ m5.*")], batch.PlacementConstraints);
        Assert.Equal((2048, 4096, 0), (batch.ReservedCpu, batch.ReservedMemoryMiB, batch.ReservedGpus));
        Assert.Equal([new PortMapping(80, 0)], batch.Containers[0].PortMappings);

        Assert.Equal(2, prod.Services.Count);
        var webService = prod.Services[0];
        Assert.Equal(("web", "web", 30), (webService.Name, webService.TaskDefinition, webService.DesiredCount));
        Assert.Equal([new CapacityProviderStrategyItem("mi", 1, 0)], webService.CapacityProviderStrategy);
        Assert.False(webService.LoadBalancer);
        Assert.True(webService.AssignPublicIp);
        Assert.Equal(new DeploymentConfiguration(), webService.Deployment);
        Assert.Equal(web2, prod.FindTaskDefinition(webService.TaskDefinition));

        var api = prod.Services[1];
        Assert.Equal(("api", "web:1", 1000), (api.Name, api.TaskDefinition, api.DesiredCount));
        Assert.Equal([new CapacityProviderStrategyItem("fargate", 1, 2), new CapacityProviderStrategyItem("spot", 3, 0)],
            api.CapacityProviderStrategy);
        Assert.True(api.LoadBalancer);
        Assert.False(api.AssignPublicIp);
        Assert.Equal(new DeploymentConfiguration
        {
            MinimumHealthyPercent = 50, MaximumPercent = 150, CircuitBreakerEnabled = true, CircuitBreakerRollback = true,
        }, api.Deployment);
        Assert.Equal(web, prod.FindTaskDefinition(api.TaskDefinition));

        var dev = Assert.Single(s.Accounts[1].Clusters);
        Assert.Equal(["x"], dev.Zones);
        Assert.Empty(dev.Services);

        // Sorted by time; entries keep their source line.
        Assert.Equal(
        [
            (TimeSpan.FromMinutes(10), 73),
            (TimeSpan.FromHours(1), 74),
            (TimeSpan.FromMinutes(90), 80),
            (TimeSpan.FromDays(2), 75),
            (TimeSpan.FromDays(3), 76),
            (TimeSpan.FromDays(4), 77),
            (TimeSpan.FromDays(5), 78),
            (TimeSpan.FromDays(6), 79),
        ], s.Timeline.Select(e => (e.At, e.Line)));
        Assert.Equal(
        [
            new RunTaskAction("acme", "prod", "web", 10, "fargate", null),
            new UpdateServiceAction("acme", "prod", "web", 60, null, false),
            new RunTaskAction("globex", "dev", "tiny", 1, "fargate", null),
            new FailZoneAction("acme", "prod", "b", TimeSpan.FromHours(1)),
            new DrainInstanceAction("acme", "prod", "any"),
            new UpdateServiceAction("acme", "prod", "web", null, "web:1", true),
            new ReleaseAmiAction("1.21.0"),
            new RunTaskAction("acme", "prod", "batch", 1, "ec2",
                new DurationDistribution(TimeSpan.FromDays(20), TimeSpan.Zero, TimeSpan.Zero)),
        ], s.Timeline.Select(e => e.Action));
    }

    [Fact]
    public void The_same_scenario_as_json_parses_identically()
    {
        var yaml = LoadFull("quickstart.yaml", Samples.FullYaml).Scenario!;
        var json = LoadFull("quickstart.json", Samples.FullJson).Scenario!;

        // Records holding lists compare by reference; compare their JSON form, and the timeline actions as values.
        Assert.Equal(JsonSerializer.Serialize(yaml with { Timeline = [], InstanceCatalog = null }),
            JsonSerializer.Serialize(json with { Timeline = [], InstanceCatalog = null }));
        Assert.Equal(yaml.Timeline.Select(e => (e.At, e.Action)), json.Timeline.Select(e => (e.At, e.Action)));
        Assert.Equal([122, 123, 129, 124, 125, 126, 127, 128], json.Timeline.Select(e => e.Line));
    }

    [Fact]
    public void Defaults_apply_to_a_minimal_scenario()
    {
        var result = ScenarioLoader.Parse("""
            name: minimal
            accounts:
              - id: a
                clusters:
                  - name: c
                    capacityProviders: [ { name: f, type: fargate } ]
                    taskDefinitions: [ { family: t, cpu: 256, memory: 512, containers: [ { name: x, image: y } ] } ]
                    services: [ { name: s, taskDefinition: t, desiredCount: 0 } ]
            """, "minimal.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var s = result.Scenario!;
        Assert.Equal(42, s.Seed);
        Assert.Equal(TimeSpan.FromDays(1), s.Duration);
        Assert.False(s.UntilSettled);
        Assert.Equal(TimeSpan.FromSeconds(1), s.Tick);
        Assert.Equal(new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero), s.Start);
        Assert.Null(s.InstanceCatalog);
        Assert.Same(Scheduler.Core.Catalog.InstanceTypeCatalog.Default, result.Catalog);
        Assert.Equal("1.20.0", s.InitialAmi);
        Assert.Empty(s.Timeline);
        var cluster = s.Accounts[0].Clusters[0];
        Assert.Equal(["a", "b", "c"], cluster.Zones);
        // With one capacity provider in the cluster, a service may leave it out.
        Assert.Equal([new CapacityProviderStrategyItem("f", 1, 0)], cluster.Services[0].CapacityProviderStrategy);
        var td = cluster.TaskDefinitions[0];
        Assert.Equal((1, NetworkMode.Awsvpc, TimeSpan.FromSeconds(30)), (td.Revision, td.NetworkMode, td.StopTimeout));
    }

    [Fact]
    public void Until_settled_leaves_duration_empty()
    {
        var result = ScenarioLoader.Parse("""
            name: settle
            until: settled
            accounts: [ { id: a } ]
            """, "settle.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.True(result.Scenario!.UntilSettled);
        Assert.Null(result.Scenario.Duration);
        Assert.Empty(result.Scenario.Accounts[0].Clusters);
    }

    [Fact]
    public void The_spec_section_9_sketch_loads_with_the_built_in_catalog()
    {
        var result = ScenarioLoader.Parse("""
        name: quickstart
        seed: 42
        start: 2026-01-05T00:00:00Z   # simulated calendar start, used by maintenance windows (default 2026-01-05T00:00:00Z, a Monday)
        duration: 3d            # or: until: settled
        tick: 1s
        accounts:
          - id: acme
            limits: { fargateOnDemand: { burst: 100, perSecond: 20 } }   # optional overrides
            clusters:
              - name: prod
                zones: [a, b, c]
                capacityProviders:
                  - { name: mi, type: MANAGED_INSTANCES,
                      instanceRequirements: { vcpu: { min: 2, max: 64 }, families: [c, m, r] },
                      maintenanceWindow: { day: sunday, start: "02:00", length: 4h } }
                  - { name: fargate, type: FARGATE }
                taskDefinitions:
                  - family: web
                    cpu: 512            # task-level size: required on Fargate (a standard Fargate size)
                    memory: 1024
                    networkMode: awsvpc
                    stopTimeout: 30s
                    # runTime: 2h       # how long the work runs before its essential container exits (batch work);
                    #                   # absent = runs until stopped (services). A distribution is allowed too.
                    containers:
                      - { name: app, image: acme/web:1.4, imageSizeMiB: 300, cpu: 256,
                          memoryReservation: 512, memory: 1024,
                          usage: { memoryMiB: { mean: 600, stddev: 40 } },
                          healthCheck: { startPeriod: 10s, interval: 5s, healthyThreshold: 2 } }
                services:
                  - { name: web, taskDefinition: web, desiredCount: 30, capacityProvider: mi }
        timeline:
          - { at: 10m, runTask: { account: acme, cluster: prod, taskDefinition: web, count: 10, capacityProvider: fargate } }
          - { at: 1h, updateService: { account: acme, cluster: prod, service: web, desiredCount: 60 } }
          - { at: 2d, failZone: { account: acme, cluster: prod, zone: b, for: 1h } }
          - { at: 3d, drainInstance: { account: acme, cluster: prod, instance: any } }
          - { at: 4d, updateService: { account: acme, cluster: prod, service: web, taskDefinition: web, forceNewDeployment: true } }
          - { at: 5d, releaseAmi: { version: "1.21.0" } }
          - { at: 6d, runTask: { account: acme, cluster: prod, taskDefinition: web, count: 1, capacityProvider: mi, runTime: 20d } }
        """, "quickstart.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var s = result.Scenario!;
        Assert.Equal(TimeSpan.FromDays(3), s.Duration);
        Assert.Equal(7, s.Timeline.Count);
        Assert.Equal(new BucketLimit(100, 20), s.Accounts[0].Limits["fargateOnDemand"]);
        var mi = s.Accounts[0].Clusters[0].CapacityProviders[0];
        var allowed = result.Catalog!.Select(mi.InstanceRequirements);
        Assert.NotEmpty(allowed);
        Assert.All(allowed, t => Assert.Contains(t.Family, new[] { "c", "m", "r" }));
        Assert.All(allowed, t => Assert.InRange(t.Vcpu, 2, 64));
        var excluded = result.Catalog.Types.Where(t => !allowed.Contains(t)).ToList();
        Assert.All(excluded, t => Assert.True(t.Vcpu < 2 || t.Vcpu > 64 || t.Family is not ("c" or "m" or "r")));
    }
}
