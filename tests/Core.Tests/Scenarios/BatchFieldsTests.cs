using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Scenarios;

public sealed class BatchFieldsTests
{
    private const string Head = """
        name: batch
        accounts:
          - id: acme
            limits: { submitJob: { burst: 5, perSecond: 2 } }
            clusters:
              - name: prod
                capacityProviders:
                  - { name: ec2, type: EC2, instanceTypes: [m5.2xlarge], initialInstances: 2 }
                  - { name: fargate, type: FARGATE }
                  - { name: spot, type: FARGATE_SPOT }
                taskDefinitions:
                  - { family: work, cpu: 256, memory: 512, runTime: 1m, containers: [ { name: w, image: w, memory: 512 } ] }
                  - { family: forever, cpu: 256, memory: 512, containers: [ { name: w, image: w, memory: 512 } ] }
                jobQueues:
                  - { name: high, capacityProvider: ec2, priority: 10, maxRunning: 50 }
                  - name: low
                    capacityProviderStrategy: [ { capacityProvider: fargate, weight: 1 }, { capacityProvider: spot, weight: 3 } ]
          - id: other
            clusters:
              - name: prod
                capacityProviders: [ { name: ec2, type: EC2, instanceTypes: [m5.2xlarge], initialInstances: 1 } ]
                taskDefinitions:
                  - { family: work, cpu: 256, memory: 512, runTime: 1m, containers: [ { name: w, image: w, memory: 512 } ] }
                jobQueues: [ { name: q } ]
        timeline:
        """;

    [Fact]
    public void Job_queues_and_submitJob_are_read_with_their_defaults()
    {
        var result = ScenarioLoader.Parse(Head + """

              - { at: 0s, submitJob: { account: acme, cluster: prod, jobQueue: high, taskDefinition: work, arraySize: 100, name: frames } }
              - { at: 5s, submitJob: { account: acme, cluster: prod, jobQueue: low, taskDefinition: forever, dependsOn: [frames], runTime: 30s,
                               retryStrategy: { attempts: 3 } } }
            """, "batch.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var cluster = result.Scenario!.Accounts[0].Clusters[0];
        Assert.Equal(["high", "low"], cluster.JobQueues.Select(q => q.Name));
        Assert.Equal((10, 50), (cluster.JobQueues[0].Priority, cluster.JobQueues[0].MaxRunning));
        Assert.Equal((1, 0), (cluster.JobQueues[1].Priority, cluster.JobQueues[1].MaxRunning));
        Assert.Equal([("fargate", 1), ("spot", 3)], cluster.JobQueues[1].CapacityProviderStrategy.Select(s => (s.CapacityProvider, s.Weight)));
        Assert.Equal(new BucketLimit(5, 2), result.Scenario.Accounts[0].Limits[BucketNames.SubmitJob]);
        var jobs = result.Scenario.Timeline.Select(e => (SubmitJobAction)e.Action).ToList();
        Assert.Equal(("frames", 100, 1), (jobs[0].Name, jobs[0].ArraySize, jobs[0].Attempts));
        // An unnamed job is named after its place among the file's submitJob entries.
        Assert.Equal(("job-00002", (int?)null, 3), (jobs[1].Name, jobs[1].ArraySize, jobs[1].Attempts));
        Assert.Equal(["frames"], jobs[1].DependsOn);
        Assert.Equal(TimeSpan.FromSeconds(30), jobs[1].RunTime!.Mean);
    }

    [Fact]
    public void Bad_queues_and_jobs_are_reported_with_line_column_and_field()
    {
        var result = ScenarioLoader.Parse(Head + """

              - { at: 0s, submitJob: { account: acme, cluster: prod, jobQueue: hihg, taskDefinition: work } }
              - { at: 0s, submitJob: { account: acme, cluster: prod, jobQueue: high, taskDefinition: work, arraySize: 10001 } }
              - { at: 0s, submitJob: { account: acme, cluster: prod, jobQueue: high, taskDefinition: work, dependsOn: [later, nope] } }
              - { at: 9s, submitJob: { account: acme, cluster: prod, jobQueue: high, taskDefinition: work, name: later } }
              - { at: 9s, submitJob: { account: acme, cluster: prod, jobQueue: high, taskDefinition: forever } }
              - { at: 9s, submitJob: { account: other, cluster: prod, jobQueue: q, taskDefinition: work, dependsOn: [later], name: later } }
              - { at: 9s, submitJob: { account: acme, cluster: prod, jobQueue: high, taskDefinition: work, retryStrategy: { attempts: 11 } } }
            """, "bad.yaml");
        Assert.False(result.Ok);
        var errors = result.Errors.Select(e => e.ToString()).ToList();
        Assert.Equal([
            "bad.yaml:26:68: timeline[0].submitJob.jobQueue: unknown job queue 'hihg' in cluster 'prod' (did you mean 'high'?)",
            "bad.yaml:27:107: timeline[1].submitJob.arraySize: 10001 is out of range: must be between 1 and 10000",
            "bad.yaml:28:108: timeline[2].submitJob.dependsOn[0]: job 'later' is submitted later (line 29, at 9s); a job may only depend on jobs submitted before it",
            "bad.yaml:28:115: timeline[2].submitJob.dependsOn[1]: unknown job 'nope'",
            "bad.yaml:30:90: timeline[4].submitJob.taskDefinition: task definition 'forever:1' has no runTime, so its jobs would never finish; give runTime here or on the task definition",
            "bad.yaml:31:106: timeline[5].submitJob.dependsOn[0]: job 'later' belongs to account 'acme', not 'other'; a job may only depend on its own account's jobs",
            "bad.yaml:31:120: timeline[5].submitJob.name: job name 'later' is already used by the submitJob at line 29",
            "bad.yaml:32:123: timeline[6].submitJob.retryStrategy.attempts: 11 is out of range: must be between 1 and 10",
        ], errors);
    }

    [Fact]
    public void CancelJob_names_a_job_or_child_of_its_account_submitted_at_or_before_it()
    {
        var ok = ScenarioLoader.Parse(Head + """

              - { at: 0s, submitJob: { account: acme, cluster: prod, jobQueue: high, taskDefinition: work, arraySize: 4, name: frames } }
              - { at: 0s, cancelJob: { account: acme, job: frames, reason: "not needed" } }
              - { at: 5s, cancelJob: { account: acme, job: "frames:3", reason: "one less" } }
            """, "batch.yaml");
        Assert.True(ok.Ok, string.Join("\n", ok.Errors));
        Assert.Equal(new CancelJobAction("acme", "frames:3", "one less"), ok.Scenario!.Timeline[2].Action);

        var bad = ScenarioLoader.Parse(Head + """

              - { at: 5s, submitJob: { account: acme, cluster: prod, jobQueue: high, taskDefinition: work, arraySize: 4, name: frames } }
              - { at: 5s, submitJob: { account: acme, cluster: prod, jobQueue: high, taskDefinition: work, name: single } }
              - { at: 1s, cancelJob: { account: acme, job: frames, reason: early } }
              - { at: 9s, cancelJob: { account: acme, job: "frames:4", reason: x } }
              - { at: 9s, cancelJob: { account: acme, job: "single:0", reason: x } }
              - { at: 9s, cancelJob: { account: other, job: frames, reason: x } }
              - { at: 9s, cancelJob: { account: acme, job: frams, reason: x } }
              - { at: 9s, cancelJob: { account: acme, job: frames } }
              - { at: 9s, cancelJob: { account: acmee, job: frames, reason: x } }
            """, "bad.yaml");
        Assert.Equal([
            "bad.yaml:28:48: timeline[2].cancelJob.job: job 'frames' is submitted later (line 26, at 5s); a cancelJob must come at or after the submitJob",
            "bad.yaml:29:48: timeline[3].cancelJob.job: job 'frames' has children 0 to 3; there is no child 4",
            "bad.yaml:30:48: timeline[4].cancelJob.job: job 'single' is not an array job, so it has no child 0",
            "bad.yaml:31:49: timeline[5].cancelJob.job: job 'frames' belongs to account 'acme', not 'other'",
            "bad.yaml:32:48: timeline[6].cancelJob.job: unknown job 'frams' (did you mean 'frames'?)",
            "bad.yaml:33:26: timeline[7].cancelJob.reason: missing required field 'reason'",
            "bad.yaml:34:37: timeline[8].cancelJob.account: unknown account 'acmee' (did you mean 'acme'?)",
        ], bad.Errors.Select(e => e.ToString()));

        var tooLong = ScenarioLoader.Parse(Head + $$"""

              - { at: 0s, submitJob: { account: acme, cluster: prod, jobQueue: high, taskDefinition: work, name: single } }
              - { at: 1s, cancelJob: { account: acme, job: single, reason: {{new string('r', 1025)}} } }
            """, "long.yaml");
        Assert.Contains("1,025 characters; a reason has at most 1,024", Assert.Single(tooLong.Errors).Message);
    }

    [Fact]
    public void A_job_queue_needs_known_capacity_providers_and_a_unique_name()
    {
        var result = ScenarioLoader.Parse("""
            name: q
            accounts:
              - id: acme
                clusters:
                  - name: prod
                    capacityProviders: [ { name: ec2, type: EC2, instanceTypes: [m5.2xlarge] }, { name: fg, type: FARGATE } ]
                    taskDefinitions: [ { family: w, cpu: 256, memory: 512, runTime: 1m, containers: [ { name: w, image: w, memory: 512 } ] } ]
                    jobQueues:
                      - { name: a, capacityProvider: ec3 }
                      - { name: a, capacityProvider: ec2, priority: -1 }
                      - { name: "bad name", capacityProvider: ec2 }
                      - { name: c }
            """, "q.yaml");
        var errors = result.Errors.Select(e => $"{e.Line}:{e.Column} {e.Field}: {e.Message}").ToList();
        Assert.Equal([
            "9:42 accounts[0].clusters[0].jobQueues[0].capacityProvider: unknown capacity provider 'ec3' in cluster 'prod' (did you mean 'ec2'?)",
            "10:21 accounts[0].clusters[0].jobQueues[1].name: cluster 'prod' has two job queues named 'a'",
            "10:57 accounts[0].clusters[0].jobQueues[1].priority: -1 is out of range: must be between 0 and 1000",
            "11:21 accounts[0].clusters[0].jobQueues[2].name: 'bad name' is not a job queue name (up to 128 letters, digits, hyphens and underscores)",
            "12:13 accounts[0].clusters[0].jobQueues[3].capacityProvider: missing required field 'capacityProvider' (cluster 'prod' has several: ec2, fg)",
        ], errors);
    }

    [Fact]
    public void CreateJobQueue_makes_a_queue_that_later_jobs_may_use_and_earlier_ones_may_not()
    {
        var result = ScenarioLoader.Parse(Head + """

              - { at: 10s, createJobQueue: { account: acme, cluster: prod, name: rush, capacityProvider: fargate, priority: 20, maxRunning: 5 } }
              - { at: 10s, submitJob: { account: acme, cluster: prod, jobQueue: rush, taskDefinition: work, name: first } }
            """, "created.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var create = Assert.IsType<CreateJobQueueAction>(result.Scenario!.Timeline[0].Action);
        Assert.Equal(("acme", "prod", "rush", 20, 5), (create.Account, create.Cluster, create.Queue.Name, create.Queue.Priority, create.Queue.MaxRunning));
        Assert.Equal([("fargate", CapacityType.Fargate)], create.Providers.Select(p => (p.Name, p.Type)));

        var bad = ScenarioLoader.Parse(Head + """

              - { at: 5s, submitJob: { account: acme, cluster: prod, jobQueue: rush, taskDefinition: work, name: early } }
              - { at: 10s, createJobQueue: { account: acme, cluster: prod, name: rush, capacityProvider: fargate } }
              - { at: 10s, createJobQueue: { account: acme, cluster: prod, name: high, capacityProvider: fargate } }
              - { at: 10s, createJobQueue: { account: acme, cluster: prod, name: broken, capacityProvider: nope } }
              - { at: 11s, submitJob: { account: acme, cluster: prod, jobQueue: broken, taskDefinition: work } }
            """, "bad.yaml");
        // The early job names a queue that does not exist yet; a refused createJobQueue leaves no queue behind.
        var errors = bad.Errors.Select(e => $"{e.Line} {e.Field}: {e.Message.Split(" (did you mean")[0]}").ToList();
        Assert.Equal([
            "26 timeline[0].submitJob.jobQueue: unknown job queue 'rush' in cluster 'prod'",
            "28 timeline[2].createJobQueue.name: cluster 'prod' has two job queues named 'high'",
            "29 timeline[3].createJobQueue.capacityProvider: unknown capacity provider 'nope' in cluster 'prod'",
            "30 timeline[4].submitJob.jobQueue: unknown job queue 'broken' in cluster 'prod'",
        ], errors);
    }

    [Fact]
    public void A_job_submitted_before_its_queue_is_created_is_refused()
    {
        var result = ScenarioLoader.Parse(Head + """

              - { at: 10s, createJobQueue: { account: acme, cluster: prod, name: rush, capacityProvider: fargate } }
              - { at: 5s, submitJob: { account: acme, cluster: prod, jobQueue: rush, taskDefinition: work, name: early } }
            """, "order.yaml");
        var error = Assert.Single(result.Errors);
        Assert.Equal(("timeline[1].submitJob", "job queue 'rush' is created at 10s, after this job is submitted (5s)"), (error.Field, error.Message));
    }
}
