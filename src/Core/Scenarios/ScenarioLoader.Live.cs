using YamlDotNet.RepresentationModel;

namespace Scheduler.Core.Scenarios;

/// <summary>
/// The timeline actions a live API call becomes (and a recorded session replays): createCluster,
/// registerTaskDefinition, createService, stopTask, and RunTask's admitted task ids; and each account's credentials.
/// </summary>
internal sealed partial class ScenarioParser
{
    private static readonly string[] CredentialFields = ["accessKeyId", "secretAccessKey"];
    private static readonly string[] CreateClusterFields = ["account", "name", "zones", "capacityProviders"];
    private static readonly string[] RegisterTaskDefinitionFields = ["account", "taskDefinition", "imageSizeMiB"];
    private static readonly string[] CreateServiceFields = ["account", "cluster", "service"];
    private static readonly string[] StopTaskFields = ["account", "cluster", "task", "reason", "host"];

    /// <summary>Capacity providers every cluster may name without defining them, as in ECS.</summary>
    public static readonly IReadOnlyList<CapacityProviderSpec> BuiltInCapacityProviders =
    [
        new() { Name = "FARGATE", Type = CapacityType.Fargate },
        new() { Name = "FARGATE_SPOT", Type = CapacityType.FargateSpot },
    ];

    private readonly Dictionary<string, string> _accessKeys = new(StringComparer.Ordinal);

    private AccountCredentials? ParseCredentials(MapReader account)
    {
        if (account.Map("credentials", CredentialFields) is not { } m)
        {
            return null;
        }
        var key = m.String("accessKeyId", required: true);
        var secret = m.String("secretAccessKey", required: true);
        if (key is null || secret is null)
        {
            return null;
        }
        if (!_accessKeys.TryAdd(key, account.F("credentials")))
        {
            _ctx.Error(m["accessKeyId"]!, m.F("accessKeyId"), $"access key '{key}' is already given to another account");
        }
        return new AccountCredentials(key, secret);
    }

    private List<string>? ParseTaskIds(MapReader m, int count)
    {
        if (m.Sequence("taskIds") is not { } items)
        {
            return null;
        }
        var ids = new List<string>();
        foreach (var (n, p) in items)
        {
            if (_ctx.NonEmptyString(n, p) is { } id)
            {
                ids.Add(id);
            }
        }
        if (ids.Count > count)
        {
            _ctx.Error(m["taskIds"]!, m.F("taskIds"), $"{ids.Count} task ids for a call of count {count}");
        }
        return ids;
    }

    /// <summary>The account a live action belongs to; it must exist.</summary>
    private Dictionary<string, ClusterInfo>? ResolveAccount(MapReader m)
    {
        var account = m.String("account", required: true);
        if (account is null)
        {
            return null;
        }
        if (_accounts.TryGetValue(account, out var clusters))
        {
            return clusters;
        }
        _ctx.Error(m["account"]!, m.F("account"), $"unknown account '{account}'{_ctx.DidYouMean(account, _accounts.Keys)}");
        return null;
    }

    private CreateClusterAction? ParseCreateCluster(MapReader m)
    {
        var before = _ctx.Errors.Count;
        var clusters = ResolveAccount(m);
        var name = m.String("name", required: true);
        var zones = ParseZones(m);
        var names = m.Strings("capacityProviders") ?? [];
        if (clusters is null || name is null)
        {
            return null;
        }
        if (clusters.ContainsKey(name))
        {
            _ctx.Error(m["name"]!, m.F("name"), $"account '{m.String("account")}' already has a cluster named '{name}'");
        }
        // A cluster may use the account's capacity providers (those its other clusters define) and Fargate.
        var known = new Dictionary<string, CapacityProviderEntry>(StringComparer.Ordinal);
        foreach (var cp in BuiltInCapacityProviders)
        {
            known[cp.Name] = new CapacityProviderEntry(cp, true, null);
        }
        foreach (var info in clusters.Values)
        {
            foreach (var (cpName, entry) in info.CapacityProviders)
            {
                known.TryAdd(cpName, entry);
            }
        }
        var chosen = new List<CapacityProviderEntry>();
        foreach (var cpName in names.Count == 0 ? BuiltInCapacityProviders.Select(cp => cp.Name) : names)
        {
            if (!known.TryGetValue(cpName, out var entry))
            {
                _ctx.Error(m["capacityProviders"]!, m.F("capacityProviders"),
                    $"unknown capacity provider '{cpName}'{_ctx.DidYouMean(cpName, known.Keys)}: name FARGATE, FARGATE_SPOT or one of the account's");
                continue;
            }
            if (chosen.All(c => c.Spec.Name != cpName))
            {
                chosen.Add(entry);
            }
        }
        if (_ctx.Errors.Count > before)
        {
            return null;
        }
        var account = m.String("account")!;
        var created = new ClusterInfo(account, name, zones);
        foreach (var entry in chosen)
        {
            created.CapacityProviders[entry.Spec.Name] = entry;
        }
        // Task definitions belong to the account: the new cluster knows every one registered so far.
        foreach (var info in clusters.Values)
        {
            foreach (var (family, revisions) in info.TaskDefinitions)
            {
                if (!created.TaskDefinitions.TryGetValue(family, out var mine))
                {
                    created.TaskDefinitions[family] = mine = [];
                }
                foreach (var (revision, entry) in revisions)
                {
                    mine.TryAdd(revision, entry);
                }
            }
        }
        clusters[name] = created;
        return new CreateClusterAction(account, new ClusterSpec
        {
            Name = name,
            Zones = zones,
            CapacityProviders = chosen.Select(c => c.Spec).ToArray(),
            TaskDefinitions = [],
        });
    }

    private RegisterTaskDefinitionAction? ParseRegisterTaskDefinition(MapReader m)
    {
        var before = _ctx.Errors.Count;
        var clusters = ResolveAccount(m);
        var imageSize = m.Int("imageSizeMiB", min: 0) ?? 100;
        var node = m.Get("taskDefinition", required: true);
        var spec = node is null ? null : ReadEcsTaskDefinition(_ctx, node, m.F("taskDefinition"), imageSize);
        if (clusters is null || spec is null || _ctx.Errors.Count > before)
        {
            return null;
        }
        var revisions = clusters.Values.SelectMany(c => c.TaskDefinitions.TryGetValue(spec.Family, out var r) ? r.Keys : Enumerable.Empty<int>()).ToList();
        var hasRevision = node is YamlMappingNode map && map.Children.ContainsKey(new YamlScalarNode("revision"));
        if (!hasRevision)
        {
            // As ECS does: the next revision of the family.
            spec = spec with { Revision = revisions.DefaultIfEmpty(0).Max() + 1 };
        }
        else if (revisions.Contains(spec.Revision))
        {
            _ctx.Error(node!, m.F("taskDefinition") + ".revision", $"task definition '{spec.Family}:{spec.Revision}' is already registered");
            return null;
        }
        var entry = new TaskDefinitionEntry(spec, true);
        foreach (var info in clusters.Values)
        {
            if (!info.TaskDefinitions.TryGetValue(spec.Family, out var mine))
            {
                info.TaskDefinitions[spec.Family] = mine = [];
            }
            mine[spec.Revision] = entry;
        }
        return new RegisterTaskDefinitionAction(m.String("account")!, spec);
    }

    private CreateServiceAction? ParseCreateService(MapReader m)
    {
        var before = _ctx.Errors.Count;
        var cluster = ResolveCluster(m);
        var node = m.Get("service", required: true);
        if (cluster is null || node is null)
        {
            return null;
        }
        var entry = ParseService(node, m.F("service"), cluster);
        if (entry is null || _ctx.Errors.Count > before)
        {
            return null;
        }
        if (cluster.Services.ContainsKey(entry.Spec.Name))
        {
            _ctx.Error(node, m.F("service") + ".name", $"cluster '{cluster.Name}' already has a service named '{entry.Spec.Name}'");
            return null;
        }
        if (!LiveServiceFits(cluster.Account, cluster.Name, entry.Spec.Name, entry.Spec.DesiredCount, m))
        {
            return null;
        }
        cluster.Services.Add(entry.Spec.Name, entry);
        return new CreateServiceAction(cluster.Account, cluster.Name, entry.Spec);
    }

    private StopTaskAction? ParseStopTask(MapReader m)
    {
        var cluster = ResolveCluster(m);
        var task = m.String("task", required: true);
        var reason = m.String("reason") ?? StopTaskAction.DefaultReason;
        var host = m.String("host");
        return cluster is not null && task is not null ? new StopTaskAction(cluster.Account, cluster.Name, task, reason, host) : null;
    }

    /// <summary>
    /// In a live session, each service's desired count as the file or the last call set it, and their sum: the tasks
    /// the services ask for at once stay within the tasks bound, as a file's do. Null while a file is loading.
    /// </summary>
    private Dictionary<(string Account, string Cluster, string Service), long>? _liveDesired;
    private long _liveDesiredTotal;

    /// <summary>
    /// The file is loaded and live actions follow: a signal no longer stops the parser (it stops the session, whose
    /// last calls must still parse), and the services' desired counts start to be summed.
    /// </summary>
    internal void EndLoad()
    {
        _cancellation = default;
        _ctx.Cancellation = default;
        _progress = null;
        _liveDesired = [];
        foreach (var (account, clusters) in _accounts)
        {
            foreach (var cluster in clusters.Values)
            {
                foreach (var service in cluster.Services.Values)
                {
                    _liveDesired[(account, cluster.Name, service.Spec.Name)] = service.Spec.DesiredCount;
                    _liveDesiredTotal += service.Spec.DesiredCount;
                }
            }
        }
    }

    /// <summary>
    /// In a live session, whether a service may ask for <paramref name="desired"/> tasks with the others' desired counts
    /// within the tasks bound; if so, the count is kept. Always true while a file loads (its total is checked at the end).
    /// </summary>
    private bool LiveServiceFits(string account, string cluster, string service, long desired, MapReader m)
    {
        if (_liveDesired is null)
        {
            return true;
        }
        var key = (account, cluster, service);
        var total = _liveDesiredTotal - _liveDesired.GetValueOrDefault(key) + desired;
        if (total > Limits.Tasks)
        {
            _ctx.Error(m.Node, m.Path,
                $"with desiredCount {desired:N0} the services would ask for {total:N0} tasks at once, more than the session may ({Limits.Hint("tasks")})");
            return false;
        }
        _liveDesired[key] = desired;
        _liveDesiredTotal = total;
        return true;
    }

    /// <summary>
    /// Parses one more timeline action after the scenario, in the state the scenario and the actions before it left:
    /// the live API's calls go through the same checks as the file that records them.
    /// </summary>
    public (TimelineAction? Action, IReadOnlyList<ScenarioError> Errors) ParseLiveAction(string actionName, YamlMappingNode body)
    {
        var before = _ctx.Errors.Count;
        var entry = new YamlMappingNode(new YamlScalarNode("at"), new YamlScalarNode("0s"), new YamlScalarNode(actionName), body);
        TimelineEntry? parsed;
        try
        {
            parsed = ParseTimelineEntry(entry, "");
        }
        catch (LimitExceededException e)
        {
            // A creation past the entities bound: refused like any other bad call; the session goes on.
            _ctx.Errors.Add(e.Error);
            parsed = null;
        }
        // The file's jobs were checked when it was loaded; a live SubmitJob's dependencies are checked by the account, so
        // the parser need not remember the job (a long session would otherwise keep every one).
        _submittedJobs.Clear();
        _cancelledJobs.Clear();
        var errors = _ctx.Errors.TakeSince(before);
        return (errors.Count == 0 ? parsed?.Action : null, errors);
    }
}

/// <summary>
/// A loaded scenario that takes more timeline actions, checked as the loader checks a file's: the live API turns each
/// accepted call into one (and the recorded session replays the same actions through the same checks).
/// </summary>
public sealed class LiveScenario
{
    private readonly ScenarioParser _parser;

    private LiveScenario(ScenarioParser parser, ScenarioLoadResult result)
    {
        _parser = parser;
        Loaded = result;
    }

    public ScenarioLoadResult Loaded { get; }

    /// <summary>
    /// Loads the scenario within <paramref name="limits"/>; the calls that follow are held to the same limits.
    /// <paramref name="cancellation"/> stops the load (with <see cref="OperationCanceledException"/>), not the calls.
    /// </summary>
    public static LiveScenario Open(string path, ScenarioLimits? limits = null, CancellationToken cancellation = default,
        Action<ScenarioLoadProgress>? progress = null)
    {
        limits ??= ScenarioLimits.Default;
        var parser = new ScenarioParser(path, limits, cancellation, progress);
        if (ScenarioLoader.ReadText(path, limits, out var error, cancellation) is not { } text)
        {
            return new LiveScenario(parser, new ScenarioLoadResult(null, [error!]));
        }
        var loaded = parser.Run(text);
        parser.EndLoad();
        return new LiveScenario(parser, loaded);
    }

    /// <summary>The action <paramref name="body"/> describes (as a timeline entry's <paramref name="actionName"/> field), or why not.</summary>
    public (TimelineAction? Action, IReadOnlyList<ScenarioError> Errors) Parse(string actionName, YamlMappingNode body) =>
        _parser.ParseLiveAction(actionName, body);

    /// <summary>The capacity providers a created cluster may name without the account defining them.</summary>
    public static IReadOnlyList<CapacityProviderSpec> BuiltInCapacityProviders => ScenarioParser.BuiltInCapacityProviders;
}
