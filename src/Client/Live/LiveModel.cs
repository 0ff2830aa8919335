using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client.Live;

/// <summary>
/// What the live API answers reads from: the scenario's and the accepted calls' resources, kept current from the
/// engine's event stream (the serve process receives every event anyway). Not thread-safe: the caller holds a lock.
/// </summary>
public sealed partial class LiveModel
{
    /// <summary>How long stopped tasks and deregistered instances stay visible by default: ECS keeps them for about an hour.</summary>
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromHours(1);

    /// <summary>How long (simulated) stopped tasks and deregistered instances stay visible.</summary>
    public long RetainMs { get; init; } = (long)DefaultRetention.TotalMilliseconds;

    /// <summary>Filled once by the constructor, then only read (without the model's lock).</summary>
    private readonly Dictionary<string, LiveAccount> _byAccessKey = new(StringComparer.Ordinal);

    public LiveModel(Scenario scenario, InstanceTypeCatalog catalog)
    {
        Start = scenario.Start;
        Catalog = catalog;
        foreach (var entry in scenario.Timeline)
        {
            if (entry.Action is Core.Scenarios.SubmitJobAction submit)
            {
                _fileJobs[(submit.Account, submit.Name)] = submit;
            }
        }
        foreach (var spec in scenario.Accounts)
        {
            var account = new LiveAccount(spec);
            Accounts[spec.Id] = account;
            if (spec.Credentials is { } c)
            {
                _byAccessKey[c.AccessKeyId] = account;
            }
            foreach (var cluster in spec.Clusters)
            {
                AddScenarioQueues(account, cluster);
                var live = account.AddCluster(cluster.Name, cluster.Zones, cluster.CapacityProviders, 0);
                foreach (var td in cluster.TaskDefinitions)
                {
                    if (!account.TaskDefinitions.ContainsKey(Label(td)))
                    {
                        account.TaskDefinitions[Label(td)] = new LiveTaskDefinition(td, TaskDefinitionJson.FromSpec(td), 0);
                    }
                }
                foreach (var svc in cluster.Services)
                {
                    var resolved = TaskLaunches.Resolve(cluster.TaskDefinitions, svc.TaskDefinition);
                    live.Services[svc.Name] = new LiveService(svc, resolved is null ? svc.TaskDefinition : Label(resolved), 0);
                }
            }
        }
    }

    public DateTimeOffset Start { get; }
    public InstanceTypeCatalog Catalog { get; }
    public SortedDictionary<string, LiveAccount> Accounts { get; } = new(StringComparer.Ordinal);

    public LiveAccount? ByAccessKey(string key) => _byAccessKey.GetValueOrDefault(key);

    public string? SecretOf(string accessKey) => _byAccessKey.TryGetValue(accessKey, out var a) ? a.Spec.Credentials!.SecretAccessKey : null;

    public static string Label(TaskDefinitionSpec td) => $"{td.Family}:{td.Revision}";

    /// <summary>Epoch seconds of a simulated time, as the ECS JSON protocol writes timestamps.</summary>
    public double Epoch(long simMs) => (Start.ToUnixTimeMilliseconds() + simMs) / 1000.0;

    public void Apply(SimEvent e)
    {
        if (!Accounts.TryGetValue(e.Account, out var account) || !account.Clusters.TryGetValue(e.Cluster, out var cluster))
        {
            return;
        }
        switch (e.Kind)
        {
            case EventKinds.Job:
                ApplyJob(account, e);
                break;
            case EventKinds.Task:
                ApplyTask(account, cluster, e);
                break;
            case EventKinds.Instance:
                if (!cluster.Instances.TryGetValue(e.Instance!, out var host))
                {
                    cluster.Instances[e.Instance!] = host = new LiveInstance(e.Instance!, e.TimeMs);
                }
                host.State = e.State ?? host.State;
                host.InstanceType = e.InstanceType ?? host.InstanceType;
                host.Zone = e.Zone ?? host.Zone;
                host.Ami = e.Ami ?? host.Ami;
                host.CapacityProvider = e.CapacityProvider ?? host.CapacityProvider;
                if (e.State == InstanceStates.Terminated)
                {
                    host.TerminatedAtMs = e.TimeMs;
                }
                break;
            case EventKinds.Service:
                if (cluster.Services.TryGetValue(e.Service!, out var service))
                {
                    service.Running = e.Running;
                    service.Healthy = e.Healthy;
                    if (e.Deployment is { } deployment)
                    {
                        service.EngineDeployment = deployment;
                    }
                    service.UpdatedAtMs = e.TimeMs;
                    RecordServiceCounts(account, cluster, service, e.Desired, e.TimeMs);
                }
                break;
        }
    }

    private void ApplyTask(LiveAccount account, LiveCluster cluster, SimEvent e)
    {
        var created = false;
        if (!cluster.Tasks.TryGetValue(e.Task!, out var task))
        {
            created = true;
            var taskDefinition = e.Service is { } name && cluster.Services.TryGetValue(name, out var svc) ? svc.EngineTaskDefinition : "";
            task = new LiveTask(e.Task!, taskDefinition, e.TimeMs)
            {
                Service = e.Service, StartedBy = e.StartedBy ?? "", CapacityProvider = e.CapacityProvider ?? "",
            };
            cluster.AddTask(task);
        }
        if (e.State == TaskStates.Provisioning && e.Cpu > 0)
        {
            task.Cpu = e.Cpu;
            task.MemoryMiB = e.MemoryMiB;
        }
        var wasLive = task.LastStatus != TaskStates.Stopped;
        var wasStopping = task.StoppingAtMs is not null;
        cluster.Change(task, t =>
        {
            t.LastStatus = e.State ?? t.LastStatus;
            t.Instance = e.Instance ?? t.Instance;
            if (e.State is TaskStates.Deactivating or TaskStates.Stopping or TaskStates.Deprovisioning or TaskStates.Stopped)
            {
                t.DesiredStatus = TaskStates.Stopped;
            }
        });
        task.Health = e.Health ?? task.Health;
        task.Zone = e.Zone ?? task.Zone;
        if (e.State == TaskStates.Running && task.StartedAtMs is null)
        {
            task.StartedAtMs = e.TimeMs;
        }
        if (e.State is TaskStates.Deactivating or TaskStates.Stopping or TaskStates.Deprovisioning or TaskStates.Stopped)
        {
            task.StoppingAtMs ??= e.TimeMs;
            task.StoppedReason ??= e.Reason;
        }
        if (created || !wasStopping)
        {
            RecordServiceTask(account, cluster, task, e, created);
        }
        if (e.State == TaskStates.Stopped && wasLive)
        {
            task.StoppedAtMs = e.TimeMs;
            task.StoppedReason = e.Reason ?? task.StoppedReason;
            _stoppedTasks.Enqueue((cluster, task, e.TimeMs));
        }
    }

    /// <summary>Stopped tasks in the order they stopped (events come in time order), so that forgetting them walks only the forgotten.</summary>
    private readonly Queue<(LiveCluster Cluster, LiveTask Task, long AtMs)> _stoppedTasks = new();

    /// <summary>Forgets what ECS no longer shows: tasks stopped and instances deregistered over an hour ago; deleted services that drained become INACTIVE.</summary>
    public void Sweep(long nowMs)
    {
        SweepJobs(nowMs);
        while (_stoppedTasks.TryPeek(out var next) && next.AtMs + RetainMs < nowMs)
        {
            _stoppedTasks.Dequeue();
            // Unless the task was replaced under its id, or stopped again later (a newer entry stands for that).
            if (next.Cluster.Tasks.TryGetValue(next.Task.Id, out var current) && ReferenceEquals(current, next.Task)
                && next.Task.StoppedAtMs == next.AtMs && next.Task.LastStatus == TaskStates.Stopped)
            {
                next.Cluster.RemoveTask(next.Task);
            }
        }
        foreach (var account in Accounts.Values)
        {
            foreach (var cluster in account.Clusters.Values)
            {
                var terminated = cluster.Instances.Values.Where(i => i.TerminatedAtMs is { } at && at + RetainMs < nowMs).Select(i => i.Id).ToList();
                foreach (var id in terminated)
                {
                    cluster.Instances.Remove(id);
                }
                foreach (var service in cluster.Services.Values.Where(s => s.Status == "DRAINING" && s.Running == 0))
                {
                    service.Status = "INACTIVE";
                }
            }
        }
    }
}

public sealed partial class LiveAccount
{
    public LiveAccount(AccountSpec spec)
    {
        Spec = spec;
        AccountId = spec.Id.Length == 12 && spec.Id.All(char.IsAsciiDigit) ? spec.Id : DerivedId(spec.Id);
        ApiLimit = BucketNames.Limit(spec.Limits, BucketNames.Api);
        ApiBucket = TokenBucket.Full(ApiLimit, 0);
    }

    public AccountSpec Spec { get; }
    /// <summary>The 12-digit id in ARNs: the scenario's id when it is one, else a stable number derived from it.</summary>
    public string AccountId { get; }
    public SortedDictionary<string, LiveCluster> Clusters { get; } = new(StringComparer.Ordinal);
    /// <summary>By "family:revision".</summary>
    public SortedDictionary<string, LiveTaskDefinition> TaskDefinitions { get; } = new(StringComparer.Ordinal);
    public BucketLimit ApiLimit { get; }
    public TokenBucket ApiBucket { get; set; }

    /// <summary>Takes one token of the account's API bucket at <paramref name="nowMs"/>; false when the bucket is empty.</summary>
    public bool TakeApiCall(long nowMs)
    {
        var (bucket, granted) = ApiBucket.Take(nowMs, 1, ApiLimit);
        ApiBucket = bucket;
        return granted > 0;
    }
    /// <summary>Counts the tasks this account's RunTask calls started, for their ids.</summary>
    public long RunTaskCount { get; set; }

    public LiveCluster AddCluster(string name, IReadOnlyList<string> zones, IReadOnlyList<CapacityProviderSpec> providers, long atMs)
    {
        var cluster = new LiveCluster(name, zones, providers, atMs);
        Clusters[name] = cluster;
        return cluster;
    }

    public int LatestRevision(string family) =>
        TaskDefinitions.Values.Where(t => t.Spec.Family == family).Select(t => t.Spec.Revision).DefaultIfEmpty(0).Max();

    private static string DerivedId(string id)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(id));
        var n = BitConverter.ToUInt64(hash, 0) % 1_000_000_000_000UL;
        return n.ToString("D12", System.Globalization.CultureInfo.InvariantCulture);
    }
}

public sealed class LiveCluster(string name, IReadOnlyList<string> zones, IReadOnlyList<CapacityProviderSpec> providers, long createdAtMs)
{
    public string Name { get; } = name;
    public IReadOnlyList<string> Zones { get; } = zones;
    /// <summary>What the engine's cluster has; <see cref="Associated"/> is what PutClusterCapacityProviders left of them.</summary>
    public IReadOnlyList<CapacityProviderSpec> Providers { get; } = providers;
    public List<string> Associated { get; set; } = providers.Select(p => p.Name).ToList();
    public List<CapacityProviderStrategyItem> DefaultStrategy { get; set; } = [];
    public string Status { get; set; } = "ACTIVE";
    public long CreatedAtMs { get; } = createdAtMs;
    public SortedDictionary<string, LiveService> Services { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, LiveInstance> Instances { get; } = new(StringComparer.Ordinal);

    // Tasks, and the indexes that let Describe and List answer without walking every task the cluster remembers.
    private readonly Dictionary<string, LiveTask> _tasks = new(StringComparer.Ordinal);
    private readonly SortedSet<LiveTask> _desiredRunning = new(LiveTask.ByCreation);
    private readonly SortedSet<LiveTask> _desiredStopped = new(LiveTask.ByCreation);
    private readonly Dictionary<string, HashSet<LiveTask>> _liveByService = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<LiveTask>> _liveByInstance = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, LiveTask> Tasks => _tasks;
    /// <summary>Tasks whose desired status is RUNNING (or STOPPED), oldest first: what ListTasks pages through.</summary>
    public IReadOnlyCollection<LiveTask> DesiredRunning => _desiredRunning;
    public IReadOnlyCollection<LiveTask> DesiredStopped => _desiredStopped;
    public int RunningCount { get; private set; }
    public int PendingCount { get; private set; }
    /// <summary>Tasks not yet STOPPED.</summary>
    public int LiveCount { get; private set; }

    /// <summary>A service's tasks that have not stopped.</summary>
    public IReadOnlyCollection<LiveTask> LiveTasksOf(string service) => _liveByService.TryGetValue(service, out var set) ? set : [];

    /// <summary>An instance's tasks that have not stopped.</summary>
    public IReadOnlyCollection<LiveTask> LiveTasksOn(string instance) => _liveByInstance.TryGetValue(instance, out var set) ? set : [];

    public void AddTask(LiveTask task)
    {
        if (_tasks.Remove(task.Id, out var old))
        {
            Unindex(old);
        }
        _tasks[task.Id] = task;
        Index(task);
    }

    /// <summary>Changes a task's indexed fields (status, desired status, instance) and keeps the indexes right.</summary>
    public void Change(LiveTask task, Action<LiveTask> change)
    {
        Unindex(task);
        change(task);
        Index(task);
    }

    public void RemoveTask(LiveTask task)
    {
        if (_tasks.Remove(task.Id))
        {
            Unindex(task);
        }
    }

    private void Index(LiveTask t)
    {
        (t.DesiredStatus == TaskStates.Stopped ? _desiredStopped : _desiredRunning).Add(t);
        if (t.LastStatus == TaskStates.Stopped)
        {
            return;
        }
        LiveCount++;
        if (t.LastStatus == TaskStates.Running)
        {
            RunningCount++;
        }
        else if (t.LastStatus is TaskStates.Provisioning or TaskStates.Pending or TaskStates.Activating)
        {
            PendingCount++;
        }
        if (t.Service is { } service)
        {
            (_liveByService.TryGetValue(service, out var set) ? set : _liveByService[service] = []).Add(t);
        }
        if (t.Instance is { } instance)
        {
            (_liveByInstance.TryGetValue(instance, out var set) ? set : _liveByInstance[instance] = []).Add(t);
        }
    }

    private void Unindex(LiveTask t)
    {
        (t.DesiredStatus == TaskStates.Stopped ? _desiredStopped : _desiredRunning).Remove(t);
        if (t.LastStatus == TaskStates.Stopped)
        {
            return;
        }
        LiveCount--;
        if (t.LastStatus == TaskStates.Running)
        {
            RunningCount--;
        }
        else if (t.LastStatus is TaskStates.Provisioning or TaskStates.Pending or TaskStates.Activating)
        {
            PendingCount--;
        }
        if (t.Service is { } service && _liveByService.TryGetValue(service, out var bySvc))
        {
            bySvc.Remove(t);
            if (bySvc.Count == 0)
            {
                _liveByService.Remove(service);
            }
        }
        if (t.Instance is { } instance && _liveByInstance.TryGetValue(instance, out var byHost))
        {
            byHost.Remove(t);
            if (byHost.Count == 0)
            {
                _liveByInstance.Remove(instance);
            }
        }
    }

    public CapacityProviderSpec? Provider(string name) => Providers.FirstOrDefault(p => p.Name == name);
}

public sealed class LiveTaskDefinition(TaskDefinitionSpec spec, JsonObject json, long registeredAtMs)
{
    public TaskDefinitionSpec Spec { get; } = spec;
    /// <summary>The definition as ECS describes it (the request's fields, as registered).</summary>
    public JsonObject Json { get; } = json;
    public long RegisteredAtMs { get; } = registeredAtMs;
    public string Status { get; set; } = "ACTIVE";
    public long? DeregisteredAtMs { get; set; }
}

public sealed class LiveService(ServiceSpec spec, string taskDefinition, long createdAtMs)
{
    public ServiceSpec Spec { get; set; } = spec;
    public string Name => Spec.Name;
    /// <summary>"family:revision" the service deploys.</summary>
    public string TaskDefinition { get; set; } = taskDefinition;
    public int Desired { get; set; } = spec.DesiredCount;
    public string Status { get; set; } = "ACTIVE";
    public long CreatedAtMs { get; } = createdAtMs;
    public long DeploymentAtMs { get; set; } = createdAtMs;
    public long UpdatedAtMs { get; set; } = createdAtMs;
    public int Deployments { get; set; } = 1;
    // From the engine's service events.
    public int Running { get; set; }
    public int Healthy { get; set; }
    /// <summary>The engine's current deployment, "family:revision#n".</summary>
    public string EngineDeployment { get; set; } = "";
    /// <summary>What DescribeServices lists as the service's events.</summary>
    public LiveServiceHistory History { get; } = new();

    public string EngineTaskDefinition => EngineDeployment.Length > 0 && EngineDeployment.IndexOf('#') is var hash and > 0
        ? EngineDeployment[..hash] : TaskDefinition;
}

public sealed class LiveTask(string id, string taskDefinition, long createdAtMs)
{
    /// <summary>ListTasks order: by creation time, then id.</summary>
    public static readonly IComparer<LiveTask> ByCreation = Comparer<LiveTask>.Create((a, b) =>
        a.CreatedAtMs != b.CreatedAtMs ? a.CreatedAtMs.CompareTo(b.CreatedAtMs) : string.CompareOrdinal(a.Id, b.Id));

    public string Id { get; } = id;
    public string TaskDefinition { get; set; } = taskDefinition;
    public long CreatedAtMs { get; } = createdAtMs;
    public string? Service { get; set; }
    public string StartedBy { get; set; } = "";
    public string? Group { get; set; }
    public string CapacityProvider { get; set; } = "";
    public string LastStatus { get; set; } = TaskStates.Provisioning;
    public string DesiredStatus { get; set; } = TaskStates.Running;
    public string Health { get; set; } = TaskHealth.Unknown;
    public string? Instance { get; set; }
    public string? Zone { get; set; }
    public int Cpu { get; set; }
    public long MemoryMiB { get; set; }
    public long? StartedAtMs { get; set; }
    public long? StoppingAtMs { get; set; }
    public long? StoppedAtMs { get; set; }
    public string? StoppedReason { get; set; }
    /// <summary>ECS's stop code when the API knows it (StopTask: UserInitiated); else derived from the reason.</summary>
    public string? StopCode { get; set; }
    /// <summary>Scale-in protection: until when (simulated ms); null = not protected.</summary>
    public long? ProtectedUntilMs { get; set; }
}

public sealed class LiveInstance(string id, long registeredAtMs)
{
    public string Id { get; } = id;
    public long RegisteredAtMs { get; } = registeredAtMs;
    public string State { get; set; } = InstanceStates.Launching;
    public string InstanceType { get; set; } = "";
    public string Zone { get; set; } = "";
    public string Ami { get; set; } = "";
    public string CapacityProvider { get; set; } = "";
    public long? TerminatedAtMs { get; set; }

    /// <summary>Container instance status as ECS names it.</summary>
    public string EcsStatus => State switch
    {
        InstanceStates.Launching => "REGISTERING",
        InstanceStates.Terminated => "INACTIVE",
        _ => State,
    };
}
