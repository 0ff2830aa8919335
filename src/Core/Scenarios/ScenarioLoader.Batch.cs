using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Scheduler.Core.Scenarios;

/// <summary>Job queues on clusters and the <c>submitJob</c> timeline action (AWS Batch style).</summary>
internal sealed partial class ScenarioParser
{
    private static readonly string[] JobQueueFields = ["name", "capacityProvider", "capacityProviderStrategy", "priority", "maxRunning"];
    private static readonly string[] SubmitJobFields =
        ["account", "cluster", "jobQueue", "taskDefinition", "arraySize", "dependsOn", "name", "retryStrategy", "runTime"];
    private static readonly string[] RetryStrategyFields = ["attempts"];
    private static readonly string[] CreateJobQueueFields = ["account", "cluster", .. JobQueueFields];
    private static readonly string[] CancelJobFields = ["account", "job", "reason"];

    /// <summary>As AWS Batch bounds a CancelJob's reason.</summary>
    public const int MaxCancelReason = 1024;

    /// <summary>AWS Batch names: up to 128 letters, digits, hyphens and underscores, starting with a letter or digit.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")]
    private static partial Regex BatchName();

    /// <summary>A submitJob as read, kept until the whole timeline is known (its dependencies must be submitted before it).</summary>
    private sealed record SubmittedJob(SubmitJobAction Action, TimeSpan At, int Order, YamlNode At_, string Path,
        YamlNode? NameNode, IReadOnlyList<(YamlNode Node, string Field, string Name)> Dependencies);

    private readonly List<SubmittedJob> _submittedJobs = [];

    /// <summary>A cancelJob as read, checked against the submitted jobs once the whole timeline is known.</summary>
    private sealed record CancelledJob(CancelJobAction Action, TimeSpan At, YamlNode JobNode, string JobField);

    private readonly List<CancelledJob> _cancelledJobs = [];

    /// <summary>As in AWS Batch: a job depends on at most 20 others.</summary>
    public const int MaxDependencies = 20;

    private List<JobQueueSpec> ParseJobQueues(MapReader m, ClusterInfo cluster)
    {
        var queues = new List<JobQueueSpec>();
        foreach (var (n, p) in m.Sequence("jobQueues") ?? [])
        {
            if (MapReader.Open(_ctx, n, p, JobQueueFields) is { } qm && ParseJobQueue(qm, cluster, registerDespiteErrors: true) is { } spec)
            {
                queues.Add(spec);
            }
        }
        return queues;
    }

    /// <summary>
    /// One job queue's fields (a cluster's <c>jobQueues</c> item, or a <c>createJobQueue</c>), registered with the
    /// cluster: a file's queue even when some field is wrong (so that its jobs are not reported as unknown too), a
    /// created one only when it is valid (a refused API call changes nothing).
    /// </summary>
    private JobQueueSpec? ParseJobQueue(MapReader qm, ClusterInfo cluster, bool registerDespiteErrors)
    {
        var before = _ctx.Errors.Count;
        var name = qm.String("name", required: true);
        if (name is not null && !BatchName().IsMatch(name))
        {
            _ctx.Error(qm["name"]!, qm.F("name"), $"'{name}' is not a job queue name (up to 128 letters, digits, hyphens and underscores)");
        }
        var priority = qm.Int("priority", min: 0, max: 1000) ?? 1;
        var maxRunning = qm.Int("maxRunning", min: 1) ?? 0;
        var (strategy, providers) = ParseStrategy(qm, cluster);
        if (name is null)
        {
            return null;
        }
        var spec = new JobQueueSpec { Name = name, Priority = priority, MaxRunning = maxRunning, CapacityProviderStrategy = strategy };
        if (cluster.JobQueues.ContainsKey(name))
        {
            _ctx.Error(qm["name"]!, qm.F("name"), $"cluster '{cluster.Name}' has two job queues named '{name}'");
            return null;
        }
        if (!registerDespiteErrors && _ctx.Errors.Count > before)
        {
            return null;
        }
        cluster.JobQueues[name] = (spec, providers);
        return spec;
    }

    /// <summary>When each queue made by a <c>createJobQueue</c> comes to exist, by "account/cluster/queue": no job may be submitted to it before.</summary>
    private readonly Dictionary<string, (TimeSpan At, int JobsBefore)> _createdQueues = new(StringComparer.Ordinal);

    private CreateJobQueueAction? ParseCreateJobQueue(MapReader m, TimeSpan? at)
    {
        var before = _ctx.Errors.Count;
        var cluster = ResolveCluster(m);
        if (cluster is null || ParseJobQueue(m, cluster, registerDespiteErrors: false) is not { } spec || _ctx.Errors.Count > before || at is not { } time)
        {
            return null;
        }
        _createdQueues[$"{cluster.Account}/{cluster.Name}/{spec.Name}"] = (time, _submittedJobs.Count);
        var providers = spec.CapacityProviderStrategy.Select(i => cluster.CapacityProviders[i.CapacityProvider].Spec).ToArray();
        return new CreateJobQueueAction(cluster.Account, cluster.Name, spec, providers);
    }

    private SubmitJobAction? ParseSubmitJob(MapReader m, TimeSpan? at, YamlNode entry)
    {
        var cluster = ResolveCluster(m);
        var queueName = m.String("jobQueue", required: true);
        var tdRef = m.String("taskDefinition", required: true);
        var arraySize = m.Int("arraySize", min: 1, max: SubmitJobAction.MaxArraySize);
        var runTime = m["runTime"] is { } rn ? ParseRunTime(rn, m.F("runTime")) : null;
        var attempts = 1;
        if (m.Map("retryStrategy", RetryStrategyFields) is { } rm)
        {
            attempts = rm.Int("attempts", required: true, min: 1, max: SubmitJobAction.MaxAttempts) ?? 1;
        }
        var name = m.String("name");
        if (name is not null && !BatchName().IsMatch(name))
        {
            _ctx.Error(m["name"]!, m.F("name"), $"'{name}' is not a job name (up to 128 letters, digits, hyphens and underscores)");
        }
        var dependencies = new List<(YamlNode, string, string)>();
        foreach (var (dn, dp) in m.Sequence("dependsOn", max: MaxDependencies) ?? [])
        {
            if (_ctx.NonEmptyString(dn, dp) is { } dep)
            {
                dependencies.Add((dn, dp, dep));
            }
        }
        if (cluster is not null && queueName is not null && tdRef is not null)
        {
            if (!cluster.JobQueues.TryGetValue(queueName, out var queue))
            {
                _ctx.Error(m["jobQueue"]!, m.F("jobQueue"), $"unknown job queue '{queueName}' in cluster '{cluster.Name}'"
                    + _ctx.DidYouMean(queueName, cluster.JobQueues.Keys));
            }
            if (ResolveTaskDefinition(cluster, m["taskDefinition"]!, m.F("taskDefinition"), tdRef) is { } td)
            {
                if (runTime is null && td.Spec.RunTime is null && !m.Has("runTime"))
                {
                    _ctx.Error(m["taskDefinition"]!, m.F("taskDefinition"),
                        $"task definition '{td.Label}' has no runTime, so its jobs would never finish; give runTime here or on the task definition");
                }
                if (queue.Providers is { } providers)
                {
                    var reported = new HashSet<string>();
                    foreach (var cp in providers)
                    {
                        CheckFits(td, cp, m["taskDefinition"]!, m.F("taskDefinition"), reported);
                    }
                }
            }
        }
        var order = _submittedJobs.Count + 1;
        if (cluster is null || queueName is null || tdRef is null || at is not { } time)
        {
            return null;
        }
        var action = new SubmitJobAction(cluster.Account, cluster.Name, queueName, tdRef, arraySize,
            dependencies.Select(d => d.Item3).ToArray(), name ?? $"job-{order:D5}", attempts, runTime);
        _submittedJobs.Add(new SubmittedJob(action, time, order, entry, m.Path, m["name"], dependencies));
        return action;
    }

    private CancelJobAction? ParseCancelJob(MapReader m, TimeSpan? at)
    {
        var before = _ctx.Errors.Count;
        var account = ResolveAccount(m) is null ? null : m.String("account");
        var job = m.String("job", required: true);
        var reason = m.String("reason", required: true);
        // An empty reason is refused by String already.
        if (reason is { Length: > MaxCancelReason })
        {
            _ctx.Error(m["reason"]!, m.F("reason"), $"{reason.Length:N0} characters; a reason has at most {MaxCancelReason:N0}, as CancelJob allows");
        }
        if (account is null || job is null || reason is null || at is not { } time || _ctx.Errors.Count > before)
        {
            return null;
        }
        var action = new CancelJobAction(account, job, reason);
        _cancelledJobs.Add(new CancelledJob(action, time, m["job"]!, m.F("job")));
        return action;
    }

    /// <summary>
    /// Job names are unique, and a job depends only on jobs of its own account submitted before it (earlier in
    /// time, or at the same time earlier in the file), so dependencies never form a cycle.
    /// </summary>
    private void ValidateJobs()
    {
        var all = new Dictionary<string, SubmittedJob>(StringComparer.Ordinal);
        foreach (var job in _submittedJobs)
        {
            if (!all.TryAdd(job.Action.Name, job))
            {
                var first = all[job.Action.Name];
                _ctx.Error(job.NameNode ?? job.At_, job.NameNode is null ? job.Path : $"{job.Path}.name",
                    $"job name '{job.Action.Name}' is already used by the submitJob at line {first.At_.Start.Line}");
            }
        }
        for (var i = 0; i < _submittedJobs.Count; i++)
        {
            var job = _submittedJobs[i];
            var a = job.Action;
            // Jobs read before the createJobQueue were already reported as naming an unknown queue.
            if (_createdQueues.TryGetValue($"{a.Account}/{a.Cluster}/{a.JobQueue}", out var created) && i >= created.JobsBefore && job.At < created.At)
            {
                _ctx.Error(job.At_, job.Path, $"job queue '{a.JobQueue}' is created at {Duration.Format(created.At)}, after this job is submitted ({Duration.Format(job.At)})");
            }
            foreach (var (node, field, dep) in job.Dependencies)
            {
                if (!all.TryGetValue(dep, out var parent))
                {
                    _ctx.Error(node, field, $"unknown job '{dep}'{_ctx.DidYouMean(dep, all.Keys)}");
                }
                else if (parent.Action.Account != job.Action.Account)
                {
                    _ctx.Error(node, field, $"job '{dep}' belongs to account '{parent.Action.Account}', not '{job.Action.Account}'; a job may only depend on its own account's jobs");
                }
                else if (parent.At > job.At || parent.At == job.At && parent.Order >= job.Order)
                {
                    _ctx.Error(node, field, ReferenceEquals(parent, job)
                        ? $"job '{dep}' cannot depend on itself"
                        : $"job '{dep}' is submitted later (line {parent.At_.Start.Line}, at {Duration.Format(parent.At)}); a job may only depend on jobs submitted before it");
                }
            }
        }
        ValidateCancellations(all);
    }

    /// <summary>A cancelJob names a job (or one child of an array job) of its own account submitted at or before it.</summary>
    private void ValidateCancellations(Dictionary<string, SubmittedJob> all)
    {
        foreach (var (a, at, node, field) in _cancelledJobs)
        {
            var (name, index) = all.ContainsKey(a.Job) ? (a.Job, -1) : Batch.JobTaskIds.Split(a.Job);
            if (!all.TryGetValue(name, out var job))
            {
                _ctx.Error(node, field, $"unknown job '{a.Job}'{_ctx.DidYouMean(a.Job, all.Keys)}");
            }
            else if (job.Action.Account != a.Account)
            {
                _ctx.Error(node, field, $"job '{name}' belongs to account '{job.Action.Account}', not '{a.Account}'");
            }
            else if (index >= 0 && (job.Action.ArraySize is not { } size || index >= size))
            {
                _ctx.Error(node, field, job.Action.ArraySize is { } n
                    ? $"job '{name}' has children 0 to {n - 1}; there is no child {index}"
                    : $"job '{name}' is not an array job, so it has no child {index}");
            }
            else if (job.At > at)
            {
                _ctx.Error(node, field, $"job '{name}' is submitted later (line {job.At_.Start.Line}, at {Duration.Format(job.At)}); a cancelJob must come at or after the submitJob");
            }
        }
    }

    /// <summary>
    /// <c>capacityProvider</c> or <c>capacityProviderStrategy</c> (weights and one base), or the cluster's only
    /// capacity provider; the strategy may not mix Fargate with instance-backed providers. Used by services and job queues.
    /// </summary>
    private (List<CapacityProviderStrategyItem> Strategy, List<CapacityProviderEntry> Providers) ParseStrategy(MapReader m, ClusterInfo cluster)
    {
        var (strategy, providers) = ParseStrategyWithNodes(m, cluster);
        return (strategy, providers.Select(p => p.Entry).ToList());
    }

    private (List<CapacityProviderStrategyItem> Strategy, List<(CapacityProviderEntry Entry, YamlNode Node, string Field)> Providers)
        ParseStrategyWithNodes(MapReader m, ClusterInfo cluster)
    {
        var strategy = new List<CapacityProviderStrategyItem>();
        var providers = new List<(CapacityProviderEntry Entry, YamlNode Node, string Field)>();
        var strategyOk = true;
        if (m["capacityProvider"] is { } cpNode)
        {
            if (m["capacityProviderStrategy"] is { } both)
            {
                _ctx.Error(both, m.F("capacityProviderStrategy"), "give capacityProvider or capacityProviderStrategy, not both");
            }
            if (_ctx.NonEmptyString(cpNode, m.F("capacityProvider")) is { } cpName)
            {
                strategy.Add(new CapacityProviderStrategyItem(cpName, 1, 0));
                if (ResolveCapacityProvider(cluster, cpNode, m.F("capacityProvider"), cpName) is { } entry)
                {
                    providers.Add((entry, cpNode, m.F("capacityProvider")));
                }
            }
        }
        else if (m.Sequence("capacityProviderStrategy", max: MaxStrategyItems) is { } items)
        {
            if (items.Count == 0)
            {
                _ctx.Error(m["capacityProviderStrategy"]!, m.F("capacityProviderStrategy"), "the strategy needs at least one capacity provider");
            }
            foreach (var (n, p) in items)
            {
                if (MapReader.Open(_ctx, n, p, StrategyFields) is not { } sm)
                {
                    strategyOk = false;
                    continue;
                }
                var cpName = sm.String("capacityProvider", required: true);
                var weight = sm.Int("weight", min: 0, max: 1000) ?? 1;
                var @base = sm.Int("base", min: 0, max: 100_000) ?? 0;
                if (cpName is null)
                {
                    strategyOk = false;
                    continue;
                }
                if (strategy.Any(s => s.CapacityProvider == cpName))
                {
                    _ctx.Error(sm["capacityProvider"]!, sm.F("capacityProvider"), $"capacity provider '{cpName}' is in the strategy twice");
                }
                if (@base > 0 && strategy.Any(s => s.Base > 0))
                {
                    _ctx.Error(sm["base"]!, sm.F("base"), "only one capacity provider of a strategy may have a base");
                }
                strategy.Add(new CapacityProviderStrategyItem(cpName, weight, @base));
                if (ResolveCapacityProvider(cluster, sm["capacityProvider"]!, sm.F("capacityProvider"), cpName) is { } entry)
                {
                    providers.Add((entry, sm["capacityProvider"]!, sm.F("capacityProvider")));
                }
            }
            if (strategyOk && strategy.Count > 0 && strategy.All(s => s.Weight == 0))
            {
                _ctx.Error(m["capacityProviderStrategy"]!, m.F("capacityProviderStrategy"), "at least one weight must be above 0");
            }
            var kinds = providers.Where(p => p.Entry.Ok).Select(p => IsFargate(p.Entry.Spec.Type)).Distinct().Count();
            if (kinds > 1)
            {
                _ctx.Error(m["capacityProviderStrategy"]!, m.F("capacityProviderStrategy"),
                    "a strategy cannot mix Fargate and instance-backed capacity providers");
            }
        }
        else if (DefaultCapacityProvider(cluster, m.Node, m.F("capacityProvider")) is { } only)
        {
            strategy.Add(new CapacityProviderStrategyItem(only.Spec.Name, 1, 0));
            providers.Add((only, m.Node, m.F("capacityProvider")));
        }
        return (strategy, providers);
    }
}
