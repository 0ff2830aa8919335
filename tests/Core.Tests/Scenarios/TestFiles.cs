namespace Scheduler.Core.Tests.Scenarios;

/// <summary>A temporary folder for scenario and catalog files, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "scenario-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, string text)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllText(file, text);
        return file;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal static class Samples
{
    public const string Catalog = """
        - { name: m5.large, family: m, vcpu: 2, memoryMiB: 8192, hourlyPrice: 0.096 }
        - { name: m5.2xlarge, vcpu: 8, memoryMiB: 32768, hourlyPrice: 0.384, launchLatency: 2m }
        - { name: c5.xlarge, family: c, vcpu: 4, memoryMiB: 8192, hourlyPrice: 0.17 }
        - { name: r5.metal, family: r, vcpu: 96, memoryMiB: 786432, hourlyPrice: 6.048 }
        - { name: g4dn.xlarge, family: g, vcpu: 4, memoryMiB: 16384, gpus: 1, gpuModel: T4, hourlyPrice: 0.526 }
        """;

    /// <summary>The scenario format with every field of the contract.</summary>
    public const string FullYaml = """
        name: quickstart
        seed: 7
        start: 2026-02-02T06:00:00Z
        duration: 3d
        tick: 500ms
        instanceCatalog: catalog.yaml
        initialAmi: "1.19.2"
        accounts:
          - id: acme
            limits: { fargateOnDemand: { burst: 100, perSecond: 20 }, runTask: { burst: 50, perSecond: 2.5 } }
            clusters:
              - name: prod
                zones: [a, b, c]
                capacityProviders:
                  - { name: mi, type: MANAGED_INSTANCES,
                      instanceRequirements: { vcpu: { min: 2, max: 64 }, memoryMiB: { min: 4096 },
                                              memoryMiBPerVcpu: { min: 2048, max: 8192 }, families: [c, m, r],
                                              excludedFamilies: [g], allowedTypes: [], excludedTypes: [m5.large],
                                              gpus: { max: 0 }, gpuModels: [], bareMetal: included },
                      maintenanceWindow: { day: sunday, start: "02:00", length: 4h } }
                  - { name: fargate, type: FARGATE }
                  - { name: ec2, type: EC2, instanceTypes: [m5.2xlarge], initialInstances: 2, maxInstances: 200 }
                  - { name: spot, type: FARGATE_SPOT }
                  - { name: onprem, type: EXTERNAL, instances: [ { vcpu: 32, memoryMiB: 131072, count: 10, gpus: 2 } ] }
                taskDefinitions:
                  - family: web
                    cpu: 512
                    memory: 1024
                    networkMode: awsvpc
                    stopTimeout: 30s
                    containers:
                      - { name: app, image: acme/web:1.4, imageSizeMiB: 300, cpu: 256,
                          memoryReservation: 512, memory: 1024,
                          usage: { memoryMiB: { mean: 600, stddev: 40 } },
                          healthCheck: { startPeriod: 10s, interval: 5s, healthyThreshold: 2 },
                          portMappings: [ { containerPort: 8080 } ] }
                      - { name: sidecar, image: "envoy:1.30", cpu: 64, memoryReservation: 128, essential: false }
                  - family: web
                    revision: 2
                    cpu: 1024
                    memory: 2048
                    containers: [ { name: app, image: acme/web:1.5 } ]
                  - family: batch
                    networkMode: bridge
                    stopTimeout: 2m
                    runTime: { mean: 2h, stddev: 15m, min: 30m }
                    placementConstraints:
                      - { type: distinctInstance }
                      - { type: memberOf, expression: "attribute:ecs.instance-type =~ m5.*" }
                    containers:
                      - { name: job, image: acme/batch:2, cpu: 2048, memory: 4096, gpus: 0,
                          portMappings: [ { containerPort: 80, hostPort: 0 } ] }
                services:
                  - { name: web, taskDefinition: web, desiredCount: 30, capacityProvider: mi }
                  - name: api
                    taskDefinition: "web:1"
                    desiredCount: 1000
                    capacityProviderStrategy:
                      - { capacityProvider: fargate, weight: 1, base: 2 }
                      - { capacityProvider: spot, weight: 3 }
                    loadBalancer: true
                    assignPublicIp: false
                    deployment: { minimumHealthyPercent: 50, maximumPercent: 150,
                                  circuitBreaker: { enable: true, rollback: true } }
          - id: globex
            clusters:
              - name: dev
                zones: [x]
                capacityProviders: [ { name: fargate, type: FARGATE } ]
                taskDefinitions:
                  - { family: tiny, cpu: 256, memory: 512, containers: [ { name: c, image: busybox } ] }
        timeline:
          - { at: 10m, runTask: { account: acme, cluster: prod, taskDefinition: web, count: 10, capacityProvider: fargate } }
          - { at: 1h, updateService: { account: acme, cluster: prod, service: web, desiredCount: 60 } }
          - { at: 2d, failZone: { account: acme, cluster: prod, zone: b, for: 1h } }
          - { at: 3d, drainInstance: { account: acme, cluster: prod, instance: any } }
          - { at: 4d, updateService: { account: acme, cluster: prod, service: web, taskDefinition: "web:1", forceNewDeployment: true } }
          - { at: 5d, releaseAmi: { version: "1.21.0" } }
          - { at: 6d, runTask: { account: acme, cluster: prod, taskDefinition: batch, count: 1, capacityProvider: ec2, runTime: 20d } }
          - { at: 1h30m, runTask: { account: globex, cluster: dev, taskDefinition: tiny } }
        """;

    /// <summary><see cref="FullYaml"/> written as JSON.</summary>
    public const string FullJson = """
        {
          "name": "quickstart",
          "seed": 7,
          "start": "2026-02-02T06:00:00Z",
          "duration": "3d",
          "tick": "500ms",
          "instanceCatalog": "catalog.yaml",
          "initialAmi": "1.19.2",
          "accounts": [
            {
              "id": "acme",
              "limits": {
                "fargateOnDemand": { "burst": 100, "perSecond": 20 },
                "runTask": { "burst": 50, "perSecond": 2.5 }
              },
              "clusters": [
                {
                  "name": "prod",
                  "zones": ["a", "b", "c"],
                  "capacityProviders": [
                    {
                      "name": "mi",
                      "type": "MANAGED_INSTANCES",
                      "instanceRequirements": {
                        "vcpu": { "min": 2, "max": 64 },
                        "memoryMiB": { "min": 4096 },
                        "memoryMiBPerVcpu": { "min": 2048, "max": 8192 },
                        "families": ["c", "m", "r"],
                        "excludedFamilies": ["g"],
                        "allowedTypes": [],
                        "excludedTypes": ["m5.large"],
                        "gpus": { "max": 0 },
                        "gpuModels": [],
                        "bareMetal": "included"
                      },
                      "maintenanceWindow": { "day": "sunday", "start": "02:00", "length": "4h" }
                    },
                    { "name": "fargate", "type": "FARGATE" },
                    { "name": "ec2", "type": "EC2", "instanceTypes": ["m5.2xlarge"], "initialInstances": 2, "maxInstances": 200 },
                    { "name": "spot", "type": "FARGATE_SPOT" },
                    { "name": "onprem", "type": "EXTERNAL", "instances": [{ "vcpu": 32, "memoryMiB": 131072, "count": 10, "gpus": 2 }] }
                  ],
                  "taskDefinitions": [
                    {
                      "family": "web",
                      "cpu": 512,
                      "memory": 1024,
                      "networkMode": "awsvpc",
                      "stopTimeout": "30s",
                      "containers": [
                        {
                          "name": "app", "image": "acme/web:1.4", "imageSizeMiB": 300, "cpu": 256,
                          "memoryReservation": 512, "memory": 1024,
                          "usage": { "memoryMiB": { "mean": 600, "stddev": 40 } },
                          "healthCheck": { "startPeriod": "10s", "interval": "5s", "healthyThreshold": 2 },
                          "portMappings": [{ "containerPort": 8080 }]
                        },
                        { "name": "sidecar", "image": "envoy:1.30", "cpu": 64, "memoryReservation": 128, "essential": false }
                      ]
                    },
                    {
                      "family": "web",
                      "revision": 2,
                      "cpu": 1024,
                      "memory": 2048,
                      "containers": [{ "name": "app", "image": "acme/web:1.5" }]
                    },
                    {
                      "family": "batch",
                      "networkMode": "bridge",
                      "stopTimeout": "2m",
                      "runTime": { "mean": "2h", "stddev": "15m", "min": "30m" },
                      "placementConstraints": [
                        { "type": "distinctInstance" },
                        { "type": "memberOf", "expression": "attribute:ecs.instance-type =~ m5.*" }
                      ],
                      "containers": [
                        {
                          "name": "job", "image": "acme/batch:2", "cpu": 2048, "memory": 4096, "gpus": 0,
                          "portMappings": [{ "containerPort": 80, "hostPort": 0 }]
                        }
                      ]
                    }
                  ],
                  "services": [
                    { "name": "web", "taskDefinition": "web", "desiredCount": 30, "capacityProvider": "mi" },
                    {
                      "name": "api",
                      "taskDefinition": "web:1",
                      "desiredCount": 1000,
                      "capacityProviderStrategy": [
                        { "capacityProvider": "fargate", "weight": 1, "base": 2 },
                        { "capacityProvider": "spot", "weight": 3 }
                      ],
                      "loadBalancer": true,
                      "assignPublicIp": false,
                      "deployment": {
                        "minimumHealthyPercent": 50,
                        "maximumPercent": 150,
                        "circuitBreaker": { "enable": true, "rollback": true }
                      }
                    }
                  ]
                }
              ]
            },
            {
              "id": "globex",
              "clusters": [
                {
                  "name": "dev",
                  "zones": ["x"],
                  "capacityProviders": [{ "name": "fargate", "type": "FARGATE" }],
                  "taskDefinitions": [
                    { "family": "tiny", "cpu": 256, "memory": 512, "containers": [{ "name": "c", "image": "busybox" }] }
                  ]
                }
              ]
            }
          ],
          "timeline": [
            { "at": "10m", "runTask": { "account": "acme", "cluster": "prod", "taskDefinition": "web", "count": 10, "capacityProvider": "fargate" } },
            { "at": "1h", "updateService": { "account": "acme", "cluster": "prod", "service": "web", "desiredCount": 60 } },
            { "at": "2d", "failZone": { "account": "acme", "cluster": "prod", "zone": "b", "for": "1h" } },
            { "at": "3d", "drainInstance": { "account": "acme", "cluster": "prod", "instance": "any" } },
            { "at": "4d", "updateService": { "account": "acme", "cluster": "prod", "service": "web", "taskDefinition": "web:1", "forceNewDeployment": true } },
            { "at": "5d", "releaseAmi": { "version": "1.21.0" } },
            { "at": "6d", "runTask": { "account": "acme", "cluster": "prod", "taskDefinition": "batch", "count": 1, "capacityProvider": "ec2", "runTime": "20d" } },
            { "at": "1h30m", "runTask": { "account": "globex", "cluster": "dev", "taskDefinition": "tiny" } }
          ]
        }
        """;
}
