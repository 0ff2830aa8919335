using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Scenarios;

/// <summary>The timeline actions the live API records (createCluster, registerTaskDefinition, createService, stopTask, runTask taskIds) and account credentials.</summary>
public sealed class LiveActionsTests
{
    private static string Scenario(string timeline, string credentials = "") => $$"""
        name: live
        seed: 1
        accounts:
          - id: acme
            {{credentials}}
            clusters:
              - name: prod
                capacityProviders:
                  - { name: mi, type: MANAGED_INSTANCES }
                taskDefinitions:
                  - { family: web, containers: [ { name: app, image: web:1, cpu: 256, memory: 512 } ] }
          - id: globex
            clusters:
              - name: prod
                capacityProviders: [ { name: FARGATE, type: FARGATE } ]
                taskDefinitions:
                  - { family: web, cpu: 256, memory: 512, containers: [ { name: app, image: web:1, cpu: 256, memory: 512 } ] }
        timeline:
        {{timeline}}
        """;

    [Fact]
    public void A_created_cluster_gets_the_accounts_providers_and_task_definitions_and_later_actions_may_name_it()
    {
        var loaded = ScenarioLoader.Parse(Scenario("""
              - { at: 1m, createCluster: { account: acme, name: staging, capacityProviders: [FARGATE, mi] } }
              - { at: 1m, registerTaskDefinition: { account: acme, taskDefinition: { family: api, cpu: "512", memory: "1024", networkMode: awsvpc,
                    containerDefinitions: [ { name: api, image: acme/api:3, essential: true } ] } } }
              - { at: 2m, createService: { account: acme, cluster: staging, service: { name: api, taskDefinition: "api:1", desiredCount: 2, capacityProvider: FARGATE } } }
              - { at: 3m, runTask: { account: acme, cluster: staging, taskDefinition: web, count: 3, capacityProvider: mi, taskIds: [a1, a2] } }
              - { at: 4m, stopTask: { account: acme, cluster: staging, task: a1 } }
              - { at: 5m, updateService: { account: acme, cluster: staging, service: api, desiredCount: 0 } }
            """), "live.yaml");
        Assert.True(loaded.Ok, string.Join("\n", loaded.Errors));
        var actions = loaded.Scenario!.Timeline.Select(e => e.Action).ToList();
        var create = Assert.IsType<CreateClusterAction>(actions[0]);
        Assert.Equal(["FARGATE", "mi"], create.Cluster.CapacityProviders.Select(p => p.Name));
        Assert.Equal([CapacityType.Fargate, CapacityType.ManagedInstances], create.Cluster.CapacityProviders.Select(p => p.Type));
        var register = Assert.IsType<RegisterTaskDefinitionAction>(actions[1]);
        Assert.Equal(("api", 1, 512, 1024), (register.TaskDefinition.Family, register.TaskDefinition.Revision, register.TaskDefinition.Cpu, register.TaskDefinition.Memory));
        var service = Assert.IsType<CreateServiceAction>(actions[2]);
        Assert.Equal(("staging", "api", 2), (service.Cluster, service.Service.Name, service.Service.DesiredCount));
        var run = Assert.IsType<RunTaskAction>(actions[3]);
        Assert.Equal(["a1", "a2"], run.TaskIds!);
        Assert.Equal(3, run.Count);
        var stop = Assert.IsType<StopTaskAction>(actions[4]);
        Assert.Equal(("a1", StopTaskAction.DefaultReason, null), (stop.Task, stop.Reason, stop.Host));
    }

    [Fact]
    public void A_second_registration_takes_the_next_revision_in_every_cluster_of_the_account_only()
    {
        const string register = """
              - { at: 1m, registerTaskDefinition: { account: acme, taskDefinition: { family: web, memory: "512", containerDefinitions: [ { name: app, image: web:2 } ] } } }
            """;
        var mine = ScenarioLoader.Parse(Scenario(register + "\n" + """
              - { at: 2m, runTask: { account: acme, cluster: prod, taskDefinition: "web:2", capacityProvider: mi } }
            """), "live.yaml");
        Assert.True(mine.Ok, string.Join("\n", mine.Errors));
        Assert.Equal(2, Assert.IsType<RegisterTaskDefinitionAction>(mine.Scenario!.Timeline[0].Action).TaskDefinition.Revision);

        var other = ScenarioLoader.Parse(Scenario(register + "\n" + """
              - { at: 2m, runTask: { account: globex, cluster: prod, taskDefinition: "web:2", capacityProvider: FARGATE } }
            """), "live.yaml");
        var error = Assert.Single(other.Errors);
        Assert.Equal("timeline[1].runTask.taskDefinition", error.Field);
        Assert.Contains("has no revision 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_live_actions_are_errors_with_their_place()
    {
        var loaded = ScenarioLoader.Parse(Scenario("""
              - { at: 1m, createCluster: { account: acme, name: prod } }
              - { at: 1m, createCluster: { account: acme, name: dev, capacityProviders: [spot] } }
              - { at: 2m, createService: { account: acme, cluster: dev, service: { name: s, taskDefinition: web, desiredCount: 1 } } }
              - { at: 3m, runTask: { account: acme, cluster: prod, taskDefinition: web, count: 1, capacityProvider: mi, taskIds: [a, b] } }
              - { at: 4m, stopTask: { account: globex, cluster: prod } }
            """), "live.yaml");
        Assert.False(loaded.Ok);
        var byField = loaded.Errors.Select(e => (e.Line, e.Field)).ToList();
        Assert.Contains(loaded.Errors, e => e.Field == "timeline[0].createCluster.name" && e.Message.Contains("already has a cluster named 'prod'", StringComparison.Ordinal));
        Assert.Contains(loaded.Errors, e => e.Field == "timeline[1].createCluster.capacityProviders" && e.Message.Contains("unknown capacity provider 'spot'", StringComparison.Ordinal));
        Assert.Contains(loaded.Errors, e => e.Field == "timeline[2].createService.cluster" && e.Message.Contains("no cluster 'dev'", StringComparison.Ordinal));
        Assert.Contains(loaded.Errors, e => e.Field == "timeline[3].runTask.taskIds" && e.Message.Contains("2 task ids for a call of count 1", StringComparison.Ordinal));
        Assert.Contains(loaded.Errors, e => e.Field == "timeline[4].stopTask.task" && e.Message.Contains("missing required field 'task'", StringComparison.Ordinal));
        Assert.All(byField, f => Assert.True(f.Line > 0));
    }

    [Fact]
    public void Credentials_are_read_and_an_access_key_may_belong_to_one_account_only()
    {
        var ok = ScenarioLoader.Parse(Scenario("  []", "credentials: { accessKeyId: AKIA1, secretAccessKey: s3cret }"), "live.yaml");
        Assert.True(ok.Ok, string.Join("\n", ok.Errors));
        Assert.Equal(new AccountCredentials("AKIA1", "s3cret"), ok.Scenario!.Accounts[0].Credentials);
        Assert.Null(ok.Scenario.Accounts[1].Credentials);

        var twice = ScenarioLoader.Parse("""
            name: twice
            accounts:
              - { id: a, credentials: { accessKeyId: K, secretAccessKey: x }, clusters: [] }
              - { id: b, credentials: { accessKeyId: K, secretAccessKey: y }, clusters: [] }
            """, "twice.yaml");
        var error = Assert.Single(twice.Errors);
        Assert.Equal("accounts[1].credentials.accessKeyId", error.Field);
        var missing = ScenarioLoader.Parse(Scenario("  []", "credentials: { accessKeyId: AKIA1 }"), "live.yaml");
        Assert.Contains(missing.Errors, e => e.Field == "accounts[0].credentials.secretAccessKey");
    }
}
