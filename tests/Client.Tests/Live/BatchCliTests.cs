using System.Diagnostics;
using System.Text.Json;
using static Scheduler.Client.Tests.Live.ServeProcess;

namespace Scheduler.Client.Tests.Live;

/// <summary>
/// The AWS Batch side of `serve` through the unmodified AWS CLI (`aws batch ... --endpoint-url`, REST-JSON signed for
/// `batch`): a queue created at run time, an array job, a job that depends on it with a retry strategy, Batch's errors
/// and throttle, another account's view; then the recorded session replays to the same event log.
/// </summary>
public sealed class BatchCliTests : IDisposable
{
    private const string Lab = "222222222222";

    private const string ScenarioText = """
        name: live-batch
        seed: 5
        until: settled
        accounts:
          - id: "222222222222"
            credentials: { accessKeyId: AKIALABTEST00000001, secretAccessKey: lab-test-secret-000000000000000000001 }
            limits: { submitJob: { burst: 6, perSecond: 0.0001 } }
            clusters:
              - name: hpc
                capacityProviders: [ { name: FARGATE, type: FARGATE } ]
                taskDefinitions:
                  - { family: sim, cpu: 256, memory: 512, runTime: 20s, containers: [ { name: sim, image: lab/sim:1, cpu: 256, memory: 512 } ] }
                  - { family: forever, cpu: 256, memory: 512, containers: [ { name: f, image: lab/f:1, cpu: 256, memory: 512 } ] }
                jobQueues: [ { name: bulk, capacityProvider: FARGATE, priority: 1 } ]
          - id: other
            credentials: { accessKeyId: AKIAOTHERTEST000001, secretAccessKey: other-test-secret-00000000000000000001 }
            clusters:
              - name: c
                capacityProviders: [ { name: FARGATE, type: FARGATE } ]
                taskDefinitions:
                  - { family: sim, cpu: 256, memory: 512, runTime: 20s, containers: [ { name: s, image: s, cpu: 256, memory: 512 } ] }
                jobQueues: [ { name: bulk } ]
        timeline:
          - { at: 0s, submitJob: { account: "222222222222", cluster: hpc, jobQueue: bulk, taskDefinition: sim, name: warmup } }
        """;

    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-batch-").FullName;
    private ServeProcess? _serve;

    public void Dispose()
    {
        _serve?.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private (int Exit, string Out, string Err) AsLab(params string[] args) =>
        _serve!.Aws("batch", "AKIALABTEST00000001", "lab-test-secret-000000000000000000001", args);

    private (int Exit, string Out, string Err) AsOther(params string[] args) =>
        _serve!.Aws("batch", "AKIAOTHERTEST000001", "other-test-secret-00000000000000000001", args);

    [AwsFact]
    public async Task The_AWS_CLI_submits_describes_and_lists_jobs_and_the_recorded_session_replays()
    {
        var scenario = Path.Combine(_work, "batch.yaml");
        await File.WriteAllTextAsync(scenario, ScenarioText);
        var record = Path.Combine(_work, "recorded.yaml");
        var outDir = Path.Combine(_work, "live");
        _serve = ServeProcess.Start(_work, scenario, outDir, record);

        // A queue made at run time on the cluster's Fargate provider (the compute environment), above the scenario's.
        var queue = Ok(AsLab("create-job-queue", "--job-queue-name", "rush", "--priority", "10",
            "--compute-environment-order", "order=1,computeEnvironment=hpc/FARGATE"));
        Assert.Equal($"arn:aws:batch:us-east-1:{Lab}:job-queue/rush", queue.GetProperty("jobQueueArn").GetString());
        Fails(AsLab("create-job-queue", "--job-queue-name", "rush", "--priority", "1", "--compute-environment-order", "order=1,computeEnvironment=FARGATE"),
            "ClientException");
        var queues = Ok(AsLab("describe-job-queues")).GetProperty("jobQueues");
        Assert.Equal([("bulk", 1), ("rush", 10)], queues.EnumerateArray().Select(q => (q.GetProperty("jobQueueName").GetString(), q.GetProperty("priority").GetInt32())));

        // An array job, and a job that waits for it (with retries and its own run time).
        var sweep = Ok(AsLab("submit-job", "--job-name", "sweep", "--job-queue", "bulk", "--job-definition", "sim", "--array-properties", "size=3"));
        var sweepId = sweep.GetProperty("jobId").GetString()!;
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", sweepId);
        var report = Ok(AsLab("submit-job", "--job-name", "report", "--job-queue", $"arn:aws:batch:us-east-1:{Lab}:job-queue/rush",
            "--job-definition", "sim:1", "--depends-on", $"jobId={sweepId}", "--retry-strategy", "attempts=2", "--parameters", "runTime=5s"));
        var reportId = report.GetProperty("jobId").GetString()!;
        var described = Ok(AsLab("describe-jobs", "--jobs", reportId)).GetProperty("jobs")[0];
        Assert.Equal(("report", $"arn:aws:batch:us-east-1:{Lab}:job-queue/rush"), (described.GetProperty("jobName").GetString(), described.GetProperty("jobQueue").GetString()));

        // Batch's refusals: unknown queue, bad array size, unknown dependency, no run time; then the SubmitJob bucket (burst 6, one taken by the scenario's own job).
        Fails(AsLab("submit-job", "--job-name", "x", "--job-queue", "nope", "--job-definition", "sim"), "ClientException");
        Fails(AsLab("submit-job", "--job-name", "x", "--job-queue", "bulk", "--job-definition", "sim", "--array-properties", "size=1"), "ClientException");
        Fails(AsLab("submit-job", "--job-name", "x", "--job-queue", "bulk", "--job-definition", "sim", "--depends-on", "jobId=missing"), "ClientException");
        Fails(AsLab("submit-job", "--job-name", "x", "--job-queue", "bulk", "--job-definition", "forever"), "ClientException");
        Ok(AsLab("submit-job", "--job-name", "third", "--job-queue", "bulk", "--job-definition", "sim"));
        // A job that waits for a 100-day job is cancelled while it waits; an unknown job cannot be.
        var longId = Ok(AsLab("submit-job", "--job-name", "long", "--job-queue", "bulk", "--job-definition", "sim", "--parameters", "runTime=100d"))
            .GetProperty("jobId").GetString()!;
        var doomedId = Ok(AsLab("submit-job", "--job-name", "doomed", "--job-queue", "bulk", "--job-definition", "sim", "--depends-on", $"jobId={longId}"))
            .GetProperty("jobId").GetString()!;
        var cancel = AsLab("cancel-job", "--job-id", doomedId, "--reason", "not needed after all");
        Assert.True(cancel.Exit == 0, cancel.Err);
        Fails(AsLab("cancel-job", "--job-id", "missing", "--reason", "x"), "ClientException");
        Fails(AsLab("submit-job", "--job-name", "fourth", "--job-queue", "bulk", "--job-definition", "sim"), "TooManyRequestsException");

        // Another account sees none of it, and its own queue of the same name is its own.
        Assert.Equal(0, Ok(AsOther("describe-jobs", "--jobs", sweepId, reportId)).GetProperty("jobs").GetArrayLength());
        Fails(AsOther("list-jobs", "--job-queue", $"arn:aws:batch:us-east-1:{Lab}:job-queue/rush"), "ClientException");
        Assert.Equal(0, Ok(AsOther("list-jobs", "--job-queue", "bulk", "--filters", "name=JOB_NAME,values=sweep")).GetProperty("jobSummaryList").GetArrayLength());
        var wrong = _serve.Aws("batch", "AKIALABTEST00000001", "wrong-secret", "list-jobs", "--job-queue", "bulk");
        Fails(wrong, "InvalidSignatureException");

        // The jobs run: the dependent one starts only after the whole array succeeded.
        var clock = Stopwatch.StartNew();
        JsonElement jobs;
        do
        {
            await Task.Delay(500);
            jobs = Ok(AsLab("describe-jobs", "--jobs", sweepId, reportId)).GetProperty("jobs");
        }
        while (jobs.EnumerateArray().Any(j => j.GetProperty("status").GetString() is not ("SUCCEEDED" or "FAILED")) && clock.Elapsed < TimeSpan.FromSeconds(90));
        var (array, dependent) = (jobs[0], jobs[1]);
        var doomed = Ok(AsLab("describe-jobs", "--jobs", doomedId)).GetProperty("jobs")[0];
        Assert.Equal(("FAILED", "not needed after all"), (doomed.GetProperty("status").GetString(), doomed.GetProperty("statusReason").GetString()));
        Assert.False(doomed.TryGetProperty("startedAt", out _));
        Assert.Equal(("SUCCEEDED", "SUCCEEDED"), (array.GetProperty("status").GetString(), dependent.GetProperty("status").GetString()));
        Assert.Equal(3, array.GetProperty("arrayProperties").GetProperty("statusSummary").GetProperty("SUCCEEDED").GetInt32());
        Assert.True(dependent.GetProperty("startedAt").GetInt64() >= array.GetProperty("stoppedAt").GetInt64());
        Assert.Equal(sweepId, dependent.GetProperty("dependsOn")[0].GetProperty("jobId").GetString());
        Assert.Equal(2, dependent.GetProperty("retryStrategy").GetProperty("attempts").GetInt32());
        var attempt = dependent.GetProperty("attempts")[0];
        Assert.StartsWith($"arn:aws:ecs:us-east-1:{Lab}:task/hpc/", attempt.GetProperty("container").GetProperty("taskArn").GetString());
        // The 5 s run time of its parameters, not the definition's 20 s.
        Assert.InRange(attempt.GetProperty("stoppedAt").GetInt64() - attempt.GetProperty("startedAt").GetInt64(), 4_000, 7_000);

        var children = Ok(AsLab("list-jobs", "--array-job-id", sweepId, "--job-status", "SUCCEEDED")).GetProperty("jobSummaryList");
        Assert.Equal([$"{sweepId}:0", $"{sweepId}:1", $"{sweepId}:2"], children.EnumerateArray().Select(c => c.GetProperty("jobId").GetString()));
        var named = Ok(AsLab("list-jobs", "--job-queue", "bulk", "--filters", "name=JOB_NAME,values=sw*")).GetProperty("jobSummaryList");
        Assert.Equal(["sweep"], named.EnumerateArray().Select(j => j.GetProperty("jobName").GetString()));
        // The scenario's own job is listed too, under its name.
        var done = Ok(AsLab("list-jobs", "--job-queue", "bulk", "--job-status", "SUCCEEDED")).GetProperty("jobSummaryList");
        Assert.Equal(["warmup", "sweep", "third"], done.EnumerateArray().Select(j => j.GetProperty("jobName").GetString()));
        Assert.All(done.EnumerateArray(), j => Assert.Equal($"arn:aws:batch:us-east-1:{Lab}:job-definition/sim:1", j.GetProperty("jobDefinition").GetString()));

        // The session's createJobQueue and submitJob calls are in the recording, which replays to the same log.
        Assert.Equal(0, _serve.Stop());
        var recorded = await File.ReadAllTextAsync(record);
        Assert.Contains("createJobQueue:", recorded);
        Assert.Contains($"name: \"{reportId}\"", recorded);
        Assert.Contains("cancelJob:", recorded);
        var replay = Path.Combine(_work, "replay");
        var (exit, output) = await CliHarness.RunInProcess("simulate", record, "--out", replay);
        Assert.True(exit == 0, output);
        var live = await File.ReadAllBytesAsync(Path.Combine(outDir, "events.jsonl"));
        Assert.Equal(live, await File.ReadAllBytesAsync(Path.Combine(replay, "events.jsonl")));
        var log = await File.ReadAllTextAsync(Path.Combine(outDir, "events.jsonl"));
        Assert.Contains($"\"job\":\"{reportId}\",\"queue\":\"rush\"", log);
    }
}
