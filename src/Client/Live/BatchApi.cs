using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Scheduler.Core.Batch;
using Scheduler.Core.Scenarios;
using YamlDotNet.RepresentationModel;
using static Scheduler.Client.Live.TaskDefinitionJson;

namespace Scheduler.Client.Live;

/// <summary>
/// The AWS Batch operations the live API serves (REST-JSON protocol: <c>POST /v1/submitjob</c> and so on, signed for the
/// service <c>batch</c>). Job queues are the clusters' job queues; a job definition is a task definition of the account;
/// SubmitJob and CreateJobQueue become <c>submitJob</c> and <c>createJobQueue</c> timeline actions, checked as a
/// recorded session's would be. Errors are Batch's: <c>ClientException</c> (400), <c>TooManyRequestsException</c>
/// (429) when the account's SubmitJob bucket (or, for the other calls, its API bucket) is empty.
/// </summary>
public sealed partial class BatchApi(LiveEngine engine)
{
    private const int PageSize = 100;
    private const int MaxDependencies = 20;

    /// <summary>Operation by the path's last segment, as botocore's Batch model names them.</summary>
    public static readonly IReadOnlyDictionary<string, string> Operations = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["submitjob"] = "SubmitJob", ["describejobs"] = "DescribeJobs", ["listjobs"] = "ListJobs",
        ["createjobqueue"] = "CreateJobQueue", ["describejobqueues"] = "DescribeJobQueues", ["canceljob"] = "CancelJob",
    };

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")]
    private static partial Regex BatchName();

    private LiveModel Model => engine.Model;

    public async Task<JsonObject> InvokeAsync(EcsCaller caller, string operation, JsonElement request)
    {
        if (operation == "SubmitJob")
        {
            return await SubmitJob(caller, request);
        }
        lock (engine.Gate)
        {
            if (!caller.Account.TakeApiCall(engine.NowMs))
            {
                throw new EcsException(TooManyRequests());
            }
            return operation switch
            {
                "DescribeJobs" => DescribeJobs(caller, request),
                "ListJobs" => ListJobs(caller, request),
                "CreateJobQueue" => CreateJobQueue(caller, request),
                "DescribeJobQueues" => DescribeJobQueues(caller, request),
                "CancelJob" => CancelJob(caller, request),
                _ => throw Client($"Unknown operation {operation}"),
            };
        }
    }

    public static EcsError TooManyRequests() => new(429, "TooManyRequestsException", "Too Many Requests");

    public static EcsError ClientError(string message) => new(400, "ClientException", message);

    private static EcsException Client(string message) => new(ClientError(message));

    // ------------------------------------------------------------------ jobs

    private Task<JsonObject> SubmitJob(EcsCaller caller, JsonElement r) =>
        engine.AdmitAsync(caller.Account, admission => SubmitJobAdmitted(caller, r, admission));

    private JsonObject SubmitJobAdmitted(EcsCaller caller, JsonElement r, LiveEngine.Admission admission)
    {
        var account = caller.Account;
        var name = Required(r, "jobName");
        if (!BatchName().IsMatch(name))
        {
            throw Client("jobName can have up to 128 characters: letters, numbers, hyphens and underscores, starting with a letter or number.");
        }
        var queue = FindQueue(caller, Required(r, "jobQueue"));
        var td = FindJobDefinition(caller, Required(r, "jobDefinition"));
        int? arraySize = null;
        if (r.TryGetProperty("arrayProperties", out var array) && array.ValueKind == JsonValueKind.Object && EcsApi.Int(array, "size") is { } size)
        {
            if (size is < 2 or > SubmitJobAction.MaxArraySize)
            {
                throw Client($"Array job size must be between 2 and {SubmitJobAction.MaxArraySize:N0}.");
            }
            arraySize = size;
        }
        var dependsOn = new List<string>();
        if (r.TryGetProperty("dependsOn", out var deps) && deps.ValueKind == JsonValueKind.Array)
        {
            foreach (var d in deps.EnumerateArray())
            {
                var id = Required(d, "jobId");
                if (EcsApi.String(d, "type") is { } type)
                {
                    throw Client($"Dependency type {type} (between the children of two array jobs) is not supported by the simulator; depend on the whole job.");
                }
                var job = FindJob(caller, id) ?? throw Client($"Job {id} in dependsOn was not found.");
                if (job.ArrayIndex >= 0)
                {
                    throw Client($"Job {id} in dependsOn is a child of an array job; the simulator depends on whole jobs only.");
                }
                dependsOn.Add(job.Id);
            }
        }
        if (dependsOn.Count > MaxDependencies)
        {
            throw Client($"A job can depend on at most {MaxDependencies} jobs.");
        }
        var attempts = 1;
        if (r.TryGetProperty("retryStrategy", out var retry) && retry.ValueKind == JsonValueKind.Object && EcsApi.Int(retry, "attempts") is { } a)
        {
            if (a is < 1 or > SubmitJobAction.MaxAttempts)
            {
                throw Client($"retryStrategy attempts must be between 1 and {SubmitJobAction.MaxAttempts}.");
            }
            attempts = a;
        }
        var runTime = r.TryGetProperty("parameters", out var parameters) ? EcsApi.String(parameters, "runTime") : null;
        if (runTime is null && td.Spec.RunTime is null)
        {
            throw Client($"Job definition {LiveModel.Label(td.Spec)} has no run time, so the job would never end: give one in parameters (runTime=90s).");
        }
        if (admission.SubmitJob < 1)
        {
            throw new EcsException(TooManyRequests());
        }
        var jobId = JobId(account);
        var body = Map(("account", Text(account.Spec.Id)), ("cluster", Text(queue.Cluster)), ("jobQueue", Text(queue.Name)),
            ("taskDefinition", Text(LiveModel.Label(td.Spec))), ("arraySize", arraySize is { } n ? Number(n) : null),
            ("dependsOn", dependsOn.Count == 0 ? null : List(dependsOn.Select(d => (YamlNode)Text(d)))), ("name", Text(jobId)),
            ("retryStrategy", attempts == 1 ? null : Map(("attempts", Number(attempts)))), ("runTime", runTime is null ? null : Text(runTime)));
        Accept("submitJob", body);
        admission.SubmitJob--;
        var live = new LiveJob(jobId, name, queue, LiveModel.Label(td.Spec), engine.Frontier)
        {
            DependsOn = dependsOn, RetryAttempts = attempts, ArraySize = arraySize ?? 0,
        };
        live.Children = new LiveJob[live.ArraySize];
        for (var i = 0; i < live.ArraySize; i++)
        {
            live.Children[i] = new LiveJob($"{jobId}:{i}", $"{name}:{i}", queue, live.TaskDefinition, engine.Frontier)
            {
                ArrayIndex = i, Parent = live, RetryAttempts = attempts,
            };
        }
        Model.AddJob(account, live);
        return new JsonObject { ["jobArn"] = JobArn(caller, jobId), ["jobName"] = name, ["jobId"] = jobId };
    }

    /// <summary>A UUID-shaped job id from the account and its count of jobs: the same session gives the same ids.</summary>
    private static string JobId(LiveAccount account)
    {
        var n = ++account.JobCount;
        var hex = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{account.Spec.Id}/job/{n}")), 0, 16);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    /// <summary>
    /// CancelJob: becomes a <c>cancelJob</c> timeline action at the next tick. What has not started by then fails with
    /// the reason; a job in STARTING or RUNNING goes on (Batch leaves those to TerminateJob); the call succeeds either way.
    /// </summary>
    private JsonObject CancelJob(EcsCaller caller, JsonElement r)
    {
        var reference = Required(r, "jobId");
        var reason = Required(r, "reason");
        var job = FindJob(caller, reference) ?? throw Client($"Job {reference} was not found.");
        Accept("cancelJob", Map(("account", Text(caller.Account.Spec.Id)), ("job", Text(job.Id)), ("reason", Text(reason))));
        return new JsonObject();
    }

    private JsonObject DescribeJobs(EcsCaller caller, JsonElement r)
    {
        var references = EcsApi.Strings(r, "jobs");
        if (references.Count is 0 or > 100)
        {
            throw Client("jobs must list between 1 and 100 job ids.");
        }
        var jobs = new JsonArray();
        foreach (var reference in references)
        {
            // As Batch does, ids it does not know are left out of the answer.
            if (FindJob(caller, reference) is { } job)
            {
                jobs.Add(JobDetail(caller, job));
            }
        }
        return new JsonObject { ["jobs"] = jobs };
    }

    private JsonObject ListJobs(EcsCaller caller, JsonElement r)
    {
        IEnumerable<LiveJob> jobs;
        if (EcsApi.String(r, "arrayJobId") is { } parentId)
        {
            var parent = FindJob(caller, parentId);
            if (parent is null || parent.ArraySize == 0)
            {
                throw Client($"Array job {parentId} was not found.");
            }
            jobs = parent.Children.Where(c => c is not null);
        }
        else if (EcsApi.String(r, "jobQueue") is { } queueRef)
        {
            jobs = FindQueue(caller, queueRef).Jobs;
        }
        else
        {
            throw Client("A job queue (jobQueue) or an array job (arrayJobId) must be given.");
        }
        var filters = Filters(r);
        if (filters.Count > 0)
        {
            // With filters, Batch lists jobs in every status.
            jobs = jobs.Where(j => filters.All(f => f(j)));
        }
        else
        {
            var status = EcsApi.String(r, "jobStatus") ?? JobStates.Running;
            jobs = jobs.Where(j => j.Status == status);
        }
        var offset = 0;
        if (EcsApi.String(r, "nextToken") is { } token && !int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
        {
            throw Client("Invalid nextToken.");
        }
        var size = Math.Clamp(EcsApi.Int(r, "maxResults") ?? PageSize, 1, PageSize);
        var page = jobs.Skip(offset).Take(size + 1).ToList();
        var result = new JsonObject { ["jobSummaryList"] = new JsonArray(page.Take(size).Select(j => (JsonNode)JobSummary(caller, j)).ToArray()) };
        if (page.Count > size)
        {
            result["nextToken"] = (offset + size).ToString(CultureInfo.InvariantCulture);
        }
        return result;
    }

    /// <summary>ListJobs filters: JOB_NAME (exact, or a prefix ending in *), JOB_DEFINITION, BEFORE_CREATED_AT and AFTER_CREATED_AT (epoch ms).</summary>
    private List<Func<LiveJob, bool>> Filters(JsonElement r)
    {
        var filters = new List<Func<LiveJob, bool>>();
        if (!r.TryGetProperty("filters", out var items) || items.ValueKind != JsonValueKind.Array)
        {
            return filters;
        }
        foreach (var f in items.EnumerateArray())
        {
            var name = Required(f, "name");
            var values = EcsApi.Strings(f, "values");
            if (values.Count != 1)
            {
                throw Client($"Filter {name} takes one value.");
            }
            var value = values[0];
            long Millis() => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                ? ms : throw Client($"Filter {name} takes a time in milliseconds since the epoch.");
            filters.Add(name switch
            {
                "JOB_NAME" => value.EndsWith('*')
                    ? j => j.Name.StartsWith(value[..^1], StringComparison.Ordinal)
                    : j => j.Name == value,
                "JOB_DEFINITION" => j => j.TaskDefinition == value || j.TaskDefinition.StartsWith(value + ":", StringComparison.Ordinal)
                    || value.EndsWith("/" + j.TaskDefinition, StringComparison.Ordinal),
                "BEFORE_CREATED_AT" => Before(Millis()),
                "AFTER_CREATED_AT" => After(Millis()),
                _ => throw Client($"Unknown filter {name}: JOB_NAME, JOB_DEFINITION, BEFORE_CREATED_AT or AFTER_CREATED_AT."),
            });
        }
        return filters;
    }

    private Func<LiveJob, bool> Before(long ms) => j => EpochMs(j.CreatedAtMs) < ms;

    private Func<LiveJob, bool> After(long ms) => j => EpochMs(j.CreatedAtMs) > ms;

    private JsonObject JobSummary(EcsCaller caller, LiveJob j)
    {
        var json = new JsonObject
        {
            ["jobArn"] = JobArn(caller, j.Id),
            ["jobId"] = j.Id,
            ["jobName"] = j.Name,
            ["createdAt"] = EpochMs(j.CreatedAtMs),
            ["status"] = j.Status,
            ["jobDefinition"] = JobDefinitionArn(caller, j.TaskDefinition),
        };
        Times(json, j);
        if (j.ArraySize > 0)
        {
            json["arrayProperties"] = new JsonObject { ["size"] = j.ArraySize };
        }
        else if (j.ArrayIndex >= 0)
        {
            json["arrayProperties"] = new JsonObject { ["index"] = j.ArrayIndex };
        }
        if (j.Attempts.Count > 0 && j.Attempts[^1].Task is { } task)
        {
            json["container"] = new JsonObject { ["reason"] = j.Attempts[^1].Reason };
            json["container"]!["taskArn"] = TaskArn(caller, j.Queue.Cluster, task);
        }
        return json;
    }

    private JsonObject JobDetail(EcsCaller caller, LiveJob j)
    {
        var td = caller.Account.TaskDefinitions.GetValueOrDefault(j.TaskDefinition)?.Spec;
        var attempts = new JsonArray();
        foreach (var a in j.Attempts.Where(a => a.StoppedAtMs is not null))
        {
            var attempt = new JsonObject
            {
                ["container"] = new JsonObject
                {
                    ["taskArn"] = a.Task is null ? null : TaskArn(caller, j.Queue.Cluster, a.Task),
                    ["reason"] = a.Reason,
                },
                ["statusReason"] = a.Reason,
                ["stoppedAt"] = EpochMs(a.StoppedAtMs!.Value),
            };
            if (a.StartedAtMs is { } started)
            {
                attempt["startedAt"] = EpochMs(started);
            }
            attempts.Add(attempt);
        }
        var container = new JsonObject
        {
            ["image"] = td?.Containers.FirstOrDefault()?.Image,
            ["vcpus"] = td is null ? 0 : Math.Max(1, td.ReservedCpu / 1024),
            ["memory"] = td?.ReservedMemoryMiB ?? 0,
            ["command"] = new JsonArray(),
            ["environment"] = new JsonArray(),
            ["resourceRequirements"] = new JsonArray(),
        };
        if (j.Attempts.Count > 0 && j.Attempts[^1].Task is { } task)
        {
            container["taskArn"] = TaskArn(caller, j.Queue.Cluster, task);
        }
        var json = new JsonObject
        {
            ["jobArn"] = JobArn(caller, j.Id),
            ["jobName"] = j.Name,
            ["jobId"] = j.Id,
            ["jobQueue"] = JobQueueArn(caller, j.Queue.Name),
            ["status"] = j.Status,
            ["attempts"] = attempts,
            ["createdAt"] = EpochMs(j.CreatedAtMs),
            ["retryStrategy"] = new JsonObject { ["attempts"] = j.RetryAttempts },
            ["dependsOn"] = new JsonArray(j.DependsOn.Select(d => (JsonNode)new JsonObject { ["jobId"] = d }).ToArray()),
            ["jobDefinition"] = JobDefinitionArn(caller, j.TaskDefinition),
            ["parameters"] = new JsonObject(),
            ["container"] = container,
            ["tags"] = new JsonObject(),
            ["propagateTags"] = false,
            ["platformCapabilities"] = new JsonArray(Platform(caller, j.Queue)),
        };
        if (j.StatusReason is { } reason)
        {
            json["statusReason"] = reason;
        }
        Times(json, j);
        if (j.ArraySize > 0)
        {
            var summary = new JsonObject();
            foreach (var group in j.Children.Where(c => c is not null).GroupBy(c => c.Status).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                summary[group.Key] = group.Count();
            }
            json["arrayProperties"] = new JsonObject { ["statusSummary"] = summary, ["size"] = j.ArraySize };
        }
        else if (j.ArrayIndex >= 0)
        {
            json["arrayProperties"] = new JsonObject { ["index"] = j.ArrayIndex };
        }
        return json;
    }

    private void Times(JsonObject json, LiveJob j)
    {
        if (j.StartedAtMs is { } started)
        {
            json["startedAt"] = EpochMs(started);
        }
        if (j.StoppedAtMs is { } stopped)
        {
            json["stoppedAt"] = EpochMs(stopped);
        }
        if (j.StatusReason is { } reason)
        {
            json["statusReason"] = reason;
        }
    }

    private string Platform(EcsCaller caller, LiveJobQueue queue) =>
        caller.Account.Clusters.TryGetValue(queue.Cluster, out var cluster)
        && queue.Strategy.Count > 0 && cluster.Provider(queue.Strategy[0].CapacityProvider)?.Type is CapacityType.Fargate or CapacityType.FargateSpot
            ? "FARGATE" : "EC2";

    // ------------------------------------------------------------------ job queues

    private JsonObject CreateJobQueue(EcsCaller caller, JsonElement r)
    {
        var account = caller.Account;
        var name = Required(r, "jobQueueName");
        if (!BatchName().IsMatch(name))
        {
            throw Client("jobQueueName can have up to 128 characters: letters, numbers, hyphens and underscores, starting with a letter or number.");
        }
        var priority = EcsApi.Int(r, "priority") ?? throw Client("priority must be specified.");
        if (priority is < 0 or > 1000)
        {
            throw Client("priority must be between 0 and 1000.");
        }
        if (EcsApi.String(r, "state") is { } state && state != "ENABLED")
        {
            throw Client($"state {state}: the simulator's job queues are always ENABLED.");
        }
        if (account.JobQueues.ContainsKey(name))
        {
            throw Client("Object already exists");
        }
        var environments = new List<(int Order, LiveCluster Cluster, string Provider)>();
        if (r.TryGetProperty("computeEnvironmentOrder", out var order) && order.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in order.EnumerateArray())
            {
                var (cluster, provider) = ComputeEnvironment(caller, Required(item, "computeEnvironment"));
                environments.Add((EcsApi.Int(item, "order") ?? throw Client("computeEnvironmentOrder needs an order for each compute environment."), cluster, provider));
            }
        }
        if (environments.Count == 0)
        {
            throw Client("computeEnvironmentOrder must name at least one compute environment.");
        }
        if (environments.Select(e => e.Cluster.Name).Distinct().Count() > 1)
        {
            throw Client("The compute environments of a job queue must be capacity providers of one cluster.");
        }
        if (environments.Select(e => e.Provider).Distinct().Count() < environments.Count)
        {
            throw Client("A compute environment can appear only once in computeEnvironmentOrder.");
        }
        // Batch tries compute environments in order: the first takes the jobs; the others stay in the strategy with weight 0.
        var ordered = environments.OrderBy(e => e.Order).ToList();
        var home = ordered[0].Cluster;
        var strategy = ordered.Select((e, i) => (YamlNode)Map(("capacityProvider", Text(e.Provider)), ("weight", Number(i == 0 ? 1 : 0)))).ToList();
        var body = Map(("account", Text(account.Spec.Id)), ("cluster", Text(home.Name)), ("name", Text(name)),
            ("capacityProviderStrategy", new YamlSequenceNode(strategy) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow }),
            ("priority", Number(priority)));
        var action = (CreateJobQueueAction)Accept("createJobQueue", body);
        account.JobQueues[name] = new LiveJobQueue(name, home.Name, priority, action.Queue.CapacityProviderStrategy, engine.Frontier);
        return new JsonObject { ["jobQueueName"] = name, ["jobQueueArn"] = JobQueueArn(caller, name) };
    }

    private JsonObject DescribeJobQueues(EcsCaller caller, JsonElement r)
    {
        var names = EcsApi.Strings(r, "jobQueues");
        var queues = names.Count == 0
            ? caller.Account.JobQueues.Values.ToList()
            : names.Select(n => TryFindQueue(caller, n)).Where(q => q is not null).Select(q => q!).ToList();
        var list = new JsonArray();
        foreach (var q in queues)
        {
            list.Add(new JsonObject
            {
                ["jobQueueName"] = q.Name,
                ["jobQueueArn"] = JobQueueArn(caller, q.Name),
                ["state"] = "ENABLED",
                ["status"] = "VALID",
                ["statusReason"] = "JobQueue Healthy",
                ["priority"] = q.Priority,
                ["computeEnvironmentOrder"] = new JsonArray(q.Strategy.Select((s, i) => (JsonNode)new JsonObject
                {
                    ["order"] = i + 1, ["computeEnvironment"] = ComputeEnvironmentArn(caller, q.Cluster, s.CapacityProvider),
                }).ToArray()),
                ["jobQueueType"] = Platform(caller, q) == "FARGATE" ? "ECS_FARGATE" : "ECS",
                ["tags"] = new JsonObject(),
            });
        }
        return new JsonObject { ["jobQueues"] = list };
    }

    /// <summary>
    /// A compute environment is a capacity provider of one of the account's clusters: <c>CLUSTER/PROVIDER</c>, or
    /// <c>PROVIDER</c> when one cluster alone has a provider of that name, or an ARN ending in either.
    /// </summary>
    private static (LiveCluster Cluster, string Provider) ComputeEnvironment(EcsCaller caller, string reference)
    {
        var text = reference;
        if (text.StartsWith("arn:", StringComparison.Ordinal))
        {
            text = ParseArn(caller, text, "compute-environment");
        }
        var clusters = caller.Account.Clusters.Values.Where(c => c.Status == "ACTIVE");
        var slash = text.IndexOf('/');
        if (slash > 0)
        {
            var (clusterName, provider) = (text[..slash], text[(slash + 1)..]);
            if (caller.Account.Clusters.TryGetValue(clusterName, out var cluster) && cluster.Status == "ACTIVE" && cluster.Associated.Contains(provider))
            {
                return (cluster, provider);
            }
            throw Client($"Compute environment {reference} was not found: cluster '{clusterName}' has no capacity provider '{provider}'.");
        }
        var owners = clusters.Where(c => c.Associated.Contains(text)).ToList();
        return owners.Count switch
        {
            1 => (owners[0], text),
            0 => throw Client($"Compute environment {reference} was not found: no cluster of the account has a capacity provider '{text}'."),
            _ => throw Client($"Compute environment {reference} is ambiguous: clusters {string.Join(", ", owners.Select(c => c.Name))} have a capacity provider '{text}'; name it CLUSTER/{text}."),
        };
    }

    private LiveJobQueue FindQueue(EcsCaller caller, string reference) =>
        TryFindQueue(caller, reference) ?? throw Client($"JobQueue {reference} not found.");

    private static LiveJobQueue? TryFindQueue(EcsCaller caller, string reference)
    {
        var name = reference.StartsWith("arn:", StringComparison.Ordinal) ? TryParseArn(caller, reference, "job-queue") : reference;
        return name is not null && caller.Account.JobQueues.TryGetValue(name, out var q) ? q : null;
    }

    private static LiveJob? FindJob(EcsCaller caller, string reference)
    {
        var id = reference.StartsWith("arn:", StringComparison.Ordinal) ? TryParseArn(caller, reference, "job") : reference;
        return id is not null && caller.Account.Jobs.TryGetValue(id, out var job) ? job : null;
    }

    /// <summary>A job definition: a task definition of the account, as <c>family</c>, <c>family:revision</c>, or a Batch job-definition or ECS task-definition ARN.</summary>
    private static LiveTaskDefinition FindJobDefinition(EcsCaller caller, string reference)
    {
        var text = reference;
        if (text.StartsWith("arn:", StringComparison.Ordinal))
        {
            var parts = text.Split(':', 6);
            text = parts.Length == 6 && parts[4] == caller.Account.AccountId
                && (parts[2] == "batch" && parts[5].StartsWith("job-definition/", StringComparison.Ordinal)
                    || parts[2] == "ecs" && parts[5].StartsWith("task-definition/", StringComparison.Ordinal))
                ? parts[5][(parts[5].IndexOf('/') + 1)..]
                : "";
        }
        var account = caller.Account;
        var found = text.Contains(':')
            ? account.TaskDefinitions.GetValueOrDefault(text)
            : account.TaskDefinitions.Values.Where(t => t.Spec.Family == text && t.Status == "ACTIVE").MaxBy(t => t.Spec.Revision);
        if (found is null || found.Status != "ACTIVE")
        {
            throw Client($"Job definition {reference} not found (a job definition is one of the account's ACTIVE task definitions).");
        }
        return found;
    }

    // ------------------------------------------------------------------ shared

    private TimelineAction Accept(string actionName, YamlMappingNode body)
    {
        var (action, errors) = engine.Parser.Parse(actionName, body);
        if (action is null)
        {
            throw Client(string.Join("; ", errors.Select(e => e.Field.Length == 0 ? e.Message : $"{e.Field}: {e.Message}")));
        }
        engine.Enqueue(actionName, body, action);
        return action;
    }

    /// <summary>The resource of a Batch ARN of <paramref name="kind"/> in the caller's account; another account's is not found.</summary>
    private static string ParseArn(EcsCaller caller, string arn, string kind) =>
        TryParseArn(caller, arn, kind) ?? throw Client($"{arn} was not found.");

    private static string? TryParseArn(EcsCaller caller, string arn, string kind)
    {
        var parts = arn.Split(':', 6);
        return parts.Length == 6 && parts[2] == "batch" && parts[4] == caller.Account.AccountId && parts[5].StartsWith(kind + "/", StringComparison.Ordinal)
            ? parts[5][(kind.Length + 1)..]
            : null;
    }

    private static string Required(JsonElement r, string field) => EcsApi.String(r, field) ?? throw Client($"{field} must be specified.");

    /// <summary>Batch writes times as milliseconds since the epoch.</summary>
    private long EpochMs(long simMs) => Model.Start.ToUnixTimeMilliseconds() + simMs;

    private static string Arn(EcsCaller c, string resource) => $"arn:aws:batch:{c.Region}:{c.Account.AccountId}:{resource}";
    private static string JobArn(EcsCaller c, string id) => Arn(c, $"job/{id}");
    private static string JobQueueArn(EcsCaller c, string name) => Arn(c, $"job-queue/{name}");
    private static string JobDefinitionArn(EcsCaller c, string label) => Arn(c, $"job-definition/{label}");
    private static string ComputeEnvironmentArn(EcsCaller c, string cluster, string provider) => Arn(c, $"compute-environment/{cluster}/{provider}");
    private static string TaskArn(EcsCaller c, string cluster, string task) => $"arn:aws:ecs:{c.Region}:{c.Account.AccountId}:task/{cluster}/{task}";
}
