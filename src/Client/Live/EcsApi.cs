using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Scheduler.Core.Engine;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;
using YamlDotNet.RepresentationModel;
using static Scheduler.Client.Live.TaskDefinitionJson;

namespace Scheduler.Client.Live;

/// <summary>Who is calling: the account whose key signed the request, and the region of its credential scope (used in ARNs).</summary>
public sealed record EcsCaller(LiveAccount Account, string Region);

/// <summary>
/// The ECS operations (JSON 1.1 protocol, target prefix AmazonEC2ContainerServiceV20141113). Reads answer from the
/// <see cref="LiveModel"/>; changes become timeline actions, checked by the scenario loader as a recorded session's
/// would be, and reach the engine at the next tick. A caller sees and changes only its own account.
/// </summary>
public sealed class EcsApi(LiveEngine engine)
{
    public const string TargetPrefix = "AmazonEC2ContainerServiceV20141113.";
    private const int PageSize = 100;

    public static readonly IReadOnlyList<string> Operations =
    [
        "CreateCluster", "DescribeClusters", "ListClusters", "DeleteCluster", "PutClusterCapacityProviders",
        "RegisterTaskDefinition", "DescribeTaskDefinition", "ListTaskDefinitions", "DeregisterTaskDefinition",
        "CreateService", "UpdateService", "DeleteService", "DescribeServices", "ListServices",
        "RunTask", "StopTask", "DescribeTasks", "ListTasks",
        "ListContainerInstances", "DescribeContainerInstances", "UpdateContainerInstancesState",
        "UpdateTaskProtection", "GetTaskProtection",
    ];

    private LiveModel Model => engine.Model;

    public async Task<JsonObject> InvokeAsync(EcsCaller caller, string operation, JsonElement request)
    {
        if (operation == "RunTask")
        {
            return await RunTask(caller, request);
        }
        lock (engine.Gate)
        {
            var account = caller.Account;
            if (!account.TakeApiCall(engine.NowMs))
            {
                throw new EcsException(EcsError.Throttling());
            }
            return operation switch
            {
                "CreateCluster" => CreateCluster(caller, request),
                "DescribeClusters" => DescribeClusters(caller, request),
                "ListClusters" => Page(request, "clusterArns", account.Clusters.Values.Where(c => c.Status == "ACTIVE").Select(c => ClusterArn(caller, c.Name))),
                "DeleteCluster" => DeleteCluster(caller, request),
                "PutClusterCapacityProviders" => PutClusterCapacityProviders(caller, request),
                "RegisterTaskDefinition" => RegisterTaskDefinition(caller, request),
                "DescribeTaskDefinition" => new JsonObject { ["taskDefinition"] = TaskDefinitionObject(caller, FindTaskDefinition(caller, Required(request, "taskDefinition"), activeOnly: false)), ["tags"] = new JsonArray() },
                "ListTaskDefinitions" => ListTaskDefinitions(caller, request),
                "DeregisterTaskDefinition" => DeregisterTaskDefinition(caller, request),
                "CreateService" => CreateService(caller, request),
                "UpdateService" => UpdateService(caller, request),
                "DeleteService" => DeleteService(caller, request),
                "DescribeServices" => DescribeServices(caller, request),
                "ListServices" => ListServices(caller, request),
                "StopTask" => StopTask(caller, request),
                "DescribeTasks" => DescribeTasks(caller, request),
                "ListTasks" => ListTasks(caller, request),
                "ListContainerInstances" => ListContainerInstances(caller, request),
                "DescribeContainerInstances" => DescribeContainerInstances(caller, request),
                "UpdateContainerInstancesState" => UpdateContainerInstancesState(caller, request),
                "UpdateTaskProtection" => UpdateTaskProtection(caller, request),
                "GetTaskProtection" => GetTaskProtection(caller, request),
                _ => throw new EcsException(EcsError.UnknownOperation(TargetPrefix + operation)),
            };
        }
    }

    // ------------------------------------------------------------------ clusters

    private JsonObject CreateCluster(EcsCaller caller, JsonElement r)
    {
        var name = String(r, "clusterName") ?? "default";
        if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9_-]{1,255}$"))
        {
            throw Invalid("Cluster name can have up to 255 characters: letters (uppercase and lowercase), numbers, underscores and hyphens.");
        }
        var account = caller.Account;
        var providers = Strings(r, "capacityProviders");
        if (account.Clusters.TryGetValue(name, out var existing))
        {
            // ECS answers a repeated CreateCluster with the cluster; a deleted one comes back as it was.
            existing.Status = "ACTIVE";
            return new JsonObject { ["cluster"] = ClusterObject(caller, existing) };
        }
        var body = Map(("account", Text(account.Spec.Id)), ("name", Text(name)),
            ("capacityProviders", providers.Count == 0 ? null : List(providers.Select(p => (YamlNode)Text(p)))));
        var action = (CreateClusterAction)Accept(caller, "createCluster", body);
        var cluster = account.AddCluster(name, action.Cluster.Zones, action.Cluster.CapacityProviders, engine.Frontier);
        cluster.DefaultStrategy = Strategy(r, "defaultCapacityProviderStrategy");
        return new JsonObject { ["cluster"] = ClusterObject(caller, cluster) };
    }

    private JsonObject DescribeClusters(EcsCaller caller, JsonElement r)
    {
        var names = Strings(r, "clusters");
        var statistics = Strings(r, "include").Contains("STATISTICS");
        var clusters = new JsonArray();
        var failures = new JsonArray();
        foreach (var reference in names.Count == 0 ? ["default"] : names)
        {
            var name = ClusterName(caller, reference, "DescribeClusters");
            if (caller.Account.Clusters.TryGetValue(name, out var c))
            {
                var cluster = ClusterObject(caller, c);
                if (statistics)
                {
                    cluster["statistics"] = ClusterStatistics(c);
                }
                clusters.Add(cluster);
            }
            else
            {
                failures.Add(Failure(reference.StartsWith("arn:", StringComparison.Ordinal) ? reference : ClusterArn(caller, name), "MISSING"));
            }
        }
        return new JsonObject { ["clusters"] = clusters, ["failures"] = failures };
    }

    private JsonObject DeleteCluster(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, Required(r, "cluster"), "DeleteCluster");
        if (cluster.Services.Values.Any(s => s.Status != "INACTIVE"))
        {
            throw new EcsException(EcsError.ClusterContainsServices());
        }
        if (cluster.LiveCount > 0)
        {
            throw new EcsException(EcsError.ClusterContainsTasks());
        }
        if (cluster.Instances.Values.Any(i => i.State != InstanceStates.Terminated))
        {
            throw new EcsException(new EcsError(400, "ClusterContainsContainerInstancesException",
                "The Cluster cannot be deleted while Container Instances are active or draining."));
        }
        cluster.Status = "INACTIVE";
        return new JsonObject { ["cluster"] = ClusterObject(caller, cluster) };
    }

    private JsonObject PutClusterCapacityProviders(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, Required(r, "cluster"), "PutClusterCapacityProviders");
        var names = Strings(r, "capacityProviders");
        foreach (var name in names)
        {
            if (cluster.Provider(name) is null)
            {
                throw Invalid($"The specified capacity provider '{name}' is not available to this cluster; it was created with: {string.Join(", ", cluster.Providers.Select(p => p.Name))}.");
            }
        }
        var strategy = Strategy(r, "defaultCapacityProviderStrategy");
        foreach (var item in strategy.Where(i => !names.Contains(i.CapacityProvider)))
        {
            throw Invalid($"The capacity provider '{item.CapacityProvider}' is not associated with the cluster.");
        }
        cluster.Associated = names;
        cluster.DefaultStrategy = strategy;
        return new JsonObject { ["cluster"] = ClusterObject(caller, cluster) };
    }

    private JsonObject ClusterObject(EcsCaller caller, LiveCluster c) => new()
    {
        ["clusterArn"] = ClusterArn(caller, c.Name),
        ["clusterName"] = c.Name,
        ["status"] = c.Status,
        ["registeredContainerInstancesCount"] = c.Instances.Values.Count(i => i.State is InstanceStates.Active or InstanceStates.Draining),
        ["runningTasksCount"] = c.RunningCount,
        ["pendingTasksCount"] = c.PendingCount,
        ["activeServicesCount"] = c.Services.Values.Count(s => s.Status == "ACTIVE"),
        ["statistics"] = new JsonArray(),
        ["tags"] = new JsonArray(),
        ["settings"] = new JsonArray(new JsonObject { ["name"] = "containerInsights", ["value"] = "disabled" }),
        ["capacityProviders"] = new JsonArray(c.Associated.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray()),
        ["defaultCapacityProviderStrategy"] = StrategyJson(c.DefaultStrategy),
        ["attachments"] = new JsonArray(),
    };

    // ------------------------------------------------------------------ task definitions

    private JsonObject RegisterTaskDefinition(EcsCaller caller, JsonElement r)
    {
        var family = String(r, "family") ?? throw Client("Family must be specified.");
        var account = caller.Account;
        var revision = account.LatestRevision(family) + 1;
        var definition = (YamlMappingNode)ToYaml(r);
        definition.Children.Remove(new YamlScalarNode("revision"));
        definition.Add(new YamlScalarNode("revision"), Number(revision));
        var body = Map(("account", Text(account.Spec.Id)), ("taskDefinition", definition));
        var action = (RegisterTaskDefinitionAction)Accept(caller, "registerTaskDefinition", body, asClientError: true);
        var json = (JsonObject)JsonNode.Parse(r.GetRawText())!;
        json.Remove("tags");
        var registered = new LiveTaskDefinition(action.TaskDefinition, json, engine.Frontier);
        account.TaskDefinitions[LiveModel.Label(action.TaskDefinition)] = registered;
        return new JsonObject { ["taskDefinition"] = TaskDefinitionObject(caller, registered), ["tags"] = new JsonArray() };
    }

    private JsonObject ListTaskDefinitions(EcsCaller caller, JsonElement r)
    {
        var prefix = String(r, "familyPrefix");
        var status = String(r, "status") ?? "ACTIVE";
        var items = caller.Account.TaskDefinitions.Values
            .Where(t => (prefix is null || t.Spec.Family.StartsWith(prefix, StringComparison.Ordinal)) && (status == "ALL" || t.Status == status))
            .OrderBy(t => t.Spec.Family, StringComparer.Ordinal).ThenBy(t => t.Spec.Revision);
        var ordered = String(r, "sort") == "DESC" ? items.Reverse() : items;
        return Page(r, "taskDefinitionArns", ordered.Select(t => TaskDefinitionArn(caller, LiveModel.Label(t.Spec))));
    }

    private JsonObject DeregisterTaskDefinition(EcsCaller caller, JsonElement r)
    {
        var td = FindTaskDefinition(caller, Required(r, "taskDefinition"), activeOnly: false, requireRevision: true);
        if (td.Status == "ACTIVE")
        {
            td.Status = "INACTIVE";
            td.DeregisteredAtMs = engine.Frontier;
        }
        return new JsonObject { ["taskDefinition"] = TaskDefinitionObject(caller, td) };
    }

    private LiveTaskDefinition FindTaskDefinition(EcsCaller caller, string reference, bool activeOnly, bool requireRevision = false)
    {
        var text = reference;
        if (text.StartsWith("arn:", StringComparison.Ordinal))
        {
            var arn = ParseArn(caller, text, "task-definition", "DescribeTaskDefinition");
            text = arn;
        }
        var account = caller.Account;
        LiveTaskDefinition? found;
        if (text.Contains(':'))
        {
            found = account.TaskDefinitions.GetValueOrDefault(text);
        }
        else
        {
            if (requireRevision)
            {
                throw Invalid("A task definition revision must be given (family:revision).");
            }
            found = account.TaskDefinitions.Values.Where(t => t.Spec.Family == text && t.Status == "ACTIVE").MaxBy(t => t.Spec.Revision);
        }
        if (found is null)
        {
            throw Client("Unable to describe task definition.");
        }
        if (activeOnly && found.Status != "ACTIVE")
        {
            throw Client($"TaskDefinition is inactive ({LiveModel.Label(found.Spec)}).");
        }
        return found;
    }

    private JsonObject TaskDefinitionObject(EcsCaller caller, LiveTaskDefinition td)
    {
        var json = (JsonObject)td.Json.DeepClone();
        json["taskDefinitionArn"] = TaskDefinitionArn(caller, LiveModel.Label(td.Spec));
        json["family"] = td.Spec.Family;
        json["revision"] = td.Spec.Revision;
        json["status"] = td.Status;
        json["networkMode"] = td.Spec.NetworkMode.ToString().ToLowerInvariant();
        json["requiresAttributes"] ??= new JsonArray();
        json["placementConstraints"] ??= new JsonArray();
        json["volumes"] ??= new JsonArray();
        json["compatibilities"] = new JsonArray("EC2", "FARGATE", "MANAGED_INSTANCES");
        json["registeredAt"] = Model.Epoch(td.RegisteredAtMs);
        if (td.DeregisteredAtMs is { } at)
        {
            json["deregisteredAt"] = Model.Epoch(at);
        }
        return json;
    }

    // ------------------------------------------------------------------ services

    private JsonObject CreateService(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "CreateService");
        var name = Required(r, "serviceName");
        if (cluster.Services.TryGetValue(name, out var existing))
        {
            throw Invalid(existing.Status == "ACTIVE"
                ? "Creation of service was not idempotent."
                : $"Service '{name}' was deleted from this cluster; the simulator does not reuse a deleted service's name.");
        }
        var td = FindTaskDefinition(caller, Required(r, "taskDefinition"), activeOnly: true);
        var desired = Int(r, "desiredCount") ?? 0;
        if (desired < 0)
        {
            throw Invalid("desiredCount must be 0 or more.");
        }
        var strategy = Placement(cluster, r);
        var deployment = r.TryGetProperty("deploymentConfiguration", out var dc) ? dc : default;
        var breaker = deployment.ValueKind == JsonValueKind.Object && deployment.TryGetProperty("deploymentCircuitBreaker", out var cb) ? cb : default;
        var deploymentNode = deployment.ValueKind == JsonValueKind.Object
            ? Map(("minimumHealthyPercent", Int(deployment, "minimumHealthyPercent") is { } min ? Number(min) : null),
                ("maximumPercent", Int(deployment, "maximumPercent") is { } max ? Number(max) : null),
                ("circuitBreaker", breaker.ValueKind == JsonValueKind.Object
                    ? Map(("enable", Flag(Bool(breaker, "enable") ?? false)), ("rollback", Flag(Bool(breaker, "rollback") ?? false)))
                    : null))
            : null;
        var service = Map(("name", Text(name)), ("taskDefinition", Text(LiveModel.Label(td.Spec))), ("desiredCount", Number(desired)),
            ("capacityProviderStrategy", List(strategy.Select(s => (YamlNode)Map(("capacityProvider", Text(s.CapacityProvider)),
                ("weight", Number(s.Weight)), ("base", Number(s.Base)))))),
            ("loadBalancer", Flag(r.TryGetProperty("loadBalancers", out var lbs) && lbs.ValueKind == JsonValueKind.Array && lbs.GetArrayLength() > 0)),
            ("assignPublicIp", Text(AssignPublicIp(r) ? "ENABLED" : "DISABLED")),
            ("deployment", deploymentNode));
        var body = Map(("account", Text(caller.Account.Spec.Id)), ("cluster", Text(cluster.Name)), ("service", service));
        var action = (CreateServiceAction)Accept(caller, "createService", body);
        var live = new LiveService(action.Service, LiveModel.Label(td.Spec), engine.Frontier);
        cluster.Services[name] = live;
        return new JsonObject { ["service"] = ServiceObject(caller, cluster, live) };
    }

    private JsonObject UpdateService(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "UpdateService");
        var service = ActiveService(caller, cluster, Required(r, "service"));
        var desired = Int(r, "desiredCount");
        var force = Bool(r, "forceNewDeployment") ?? false;
        var tdRef = String(r, "taskDefinition");
        var td = tdRef is null ? null : FindTaskDefinition(caller, tdRef, activeOnly: true);
        if (desired is < 0)
        {
            throw Invalid("desiredCount must be 0 or more.");
        }
        var newRevision = td is not null && LiveModel.Label(td.Spec) != service.TaskDefinition;
        if (desired is not null || newRevision || force)
        {
            var body = Map(("account", Text(caller.Account.Spec.Id)), ("cluster", Text(cluster.Name)), ("service", Text(service.Name)),
                ("desiredCount", desired is { } d ? Number(d) : null), ("taskDefinition", newRevision ? Text(LiveModel.Label(td!.Spec)) : null),
                ("forceNewDeployment", force ? Flag(true) : null));
            Accept(caller, "updateService", body);
        }
        if (desired is { } count)
        {
            service.Desired = count;
        }
        if (newRevision || force)
        {
            service.TaskDefinition = td is null ? service.TaskDefinition : LiveModel.Label(td.Spec);
            service.DeploymentAtMs = engine.Frontier;
            service.Deployments++;
        }
        service.UpdatedAtMs = engine.Frontier;
        return new JsonObject { ["service"] = ServiceObject(caller, cluster, service) };
    }

    private JsonObject DeleteService(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "DeleteService");
        var service = ActiveService(caller, cluster, Required(r, "service"));
        if (service.Desired > 0 && Bool(r, "force") != true)
        {
            throw Invalid("The service cannot be stopped while it is scaled above 0.");
        }
        if (service.Desired > 0 || service.Running > 0)
        {
            Accept(caller, "updateService", Map(("account", Text(caller.Account.Spec.Id)), ("cluster", Text(cluster.Name)),
                ("service", Text(service.Name)), ("desiredCount", Number(0))));
        }
        service.Desired = 0;
        service.Status = service.Running == 0 ? "INACTIVE" : "DRAINING";
        return new JsonObject { ["service"] = ServiceObject(caller, cluster, service) };
    }

    private JsonObject DescribeServices(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "DescribeServices");
        return DescribeByReferences(caller, Strings(r, "services"), "service", "DescribeServices", cluster.Services,
            s => ServiceObject(caller, cluster, s), name => ServiceArn(caller, cluster.Name, name), "services");
    }

    private JsonObject ListServices(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "ListServices");
        var launchType = String(r, "launchType");
        return Page(r, "serviceArns", cluster.Services.Values
            .Where(s => s.Status != "INACTIVE" && (launchType is null || s.Spec.CapacityProviderStrategy.Any(i => LaunchType(cluster, i.CapacityProvider) == launchType)))
            .Select(s => ServiceArn(caller, cluster.Name, s.Name)));
    }

    private LiveService ActiveService(EcsCaller caller, LiveCluster cluster, string reference)
    {
        var name = Leaf(caller, reference, "service", "UpdateService");
        if (!cluster.Services.TryGetValue(name, out var service))
        {
            throw new EcsException(EcsError.ServiceNotFound());
        }
        if (service.Status != "ACTIVE")
        {
            throw new EcsException(EcsError.ServiceNotActive());
        }
        return service;
    }

    private JsonObject ServiceObject(EcsCaller caller, LiveCluster cluster, LiveService s)
    {
        var tasks = cluster.LiveTasksOf(s.Name);
        var pending = tasks.Count(t => t.LastStatus is TaskStates.Provisioning or TaskStates.Pending or TaskStates.Activating);
        var older = tasks.Where(t => t.TaskDefinition.Length > 0 && t.TaskDefinition != s.TaskDefinition).ToList();
        var deployments = new JsonArray();
        var strategy = StrategyJson(s.Spec.CapacityProviderStrategy);
        var completed = older.Count == 0 && s.Running == s.Desired && pending == 0;
        deployments.Add(new JsonObject
        {
            ["id"] = $"ecs-svc/{DeploymentNumber(s)}",
            ["status"] = "PRIMARY",
            ["taskDefinition"] = TaskDefinitionArn(caller, s.TaskDefinition),
            ["desiredCount"] = s.Desired,
            ["pendingCount"] = pending,
            ["runningCount"] = Math.Max(0, s.Running - older.Count(t => t.LastStatus == TaskStates.Running)),
            ["failedTasks"] = 0,
            ["createdAt"] = Model.Epoch(s.DeploymentAtMs),
            ["updatedAt"] = Model.Epoch(s.UpdatedAtMs),
            ["capacityProviderStrategy"] = strategy.DeepClone(),
            ["rolloutState"] = completed ? "COMPLETED" : "IN_PROGRESS",
            ["rolloutStateReason"] = completed ? "ECS deployment completed." : "ECS deployment in progress.",
        });
        foreach (var group in older.GroupBy(t => t.TaskDefinition).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            deployments.Add(new JsonObject
            {
                ["id"] = $"ecs-svc/{DeploymentNumber(s)}-{group.Key.Replace(':', '-')}",
                ["status"] = "ACTIVE",
                ["taskDefinition"] = TaskDefinitionArn(caller, group.Key),
                ["desiredCount"] = 0,
                ["pendingCount"] = group.Count(t => t.LastStatus != TaskStates.Running),
                ["runningCount"] = group.Count(t => t.LastStatus == TaskStates.Running),
                ["failedTasks"] = 0,
                ["createdAt"] = Model.Epoch(s.CreatedAtMs),
                ["updatedAt"] = Model.Epoch(s.UpdatedAtMs),
                ["capacityProviderStrategy"] = strategy.DeepClone(),
                ["rolloutState"] = "COMPLETED",
            });
        }
        return new JsonObject
        {
            ["serviceArn"] = ServiceArn(caller, cluster.Name, s.Name),
            ["serviceName"] = s.Name,
            ["clusterArn"] = ClusterArn(caller, cluster.Name),
            ["loadBalancers"] = new JsonArray(),
            ["serviceRegistries"] = new JsonArray(),
            ["status"] = s.Status,
            ["desiredCount"] = s.Desired,
            ["runningCount"] = s.Running,
            ["pendingCount"] = pending,
            ["capacityProviderStrategy"] = strategy,
            ["taskDefinition"] = TaskDefinitionArn(caller, s.TaskDefinition),
            ["deploymentConfiguration"] = new JsonObject
            {
                ["deploymentCircuitBreaker"] = new JsonObject
                {
                    ["enable"] = s.Spec.Deployment.CircuitBreakerEnabled, ["rollback"] = s.Spec.Deployment.CircuitBreakerRollback,
                },
                ["maximumPercent"] = s.Spec.Deployment.MaximumPercent,
                ["minimumHealthyPercent"] = s.Spec.Deployment.MinimumHealthyPercent,
            },
            ["deployments"] = deployments,
            ["events"] = new JsonArray(s.History.NewestFirst.Select(line => (JsonNode)new JsonObject
            {
                ["id"] = line.Id, ["createdAt"] = Model.Epoch(line.AtMs), ["message"] = line.Message,
            }).ToArray()),
            ["createdAt"] = Model.Epoch(s.CreatedAtMs),
            ["placementConstraints"] = new JsonArray(),
            ["placementStrategy"] = new JsonArray(),
            ["schedulingStrategy"] = "REPLICA",
            ["deploymentController"] = new JsonObject { ["type"] = "ECS" },
            ["createdBy"] = $"arn:aws:iam::{caller.Account.AccountId}:user/scheduler",
            ["enableECSManagedTags"] = false,
            ["propagateTags"] = "NONE",
            ["enableExecuteCommand"] = false,
        };
    }

    private static int DeploymentNumber(LiveService s) => s.Deployments;

    // ------------------------------------------------------------------ tasks

    private Task<JsonObject> RunTask(EcsCaller caller, JsonElement r) =>
        engine.AdmitAsync(caller.Account, admission => RunTaskAdmitted(caller, r, admission));

    private JsonObject RunTaskAdmitted(EcsCaller caller, JsonElement r, LiveEngine.Admission admission)
    {
        var account = caller.Account;
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "RunTask");
        var td = FindTaskDefinition(caller, Required(r, "taskDefinition"), activeOnly: true);
        var count = Int(r, "count") ?? 1;
        if (count is < 1 or > BucketNames.RunTaskMaxCount)
        {
            throw Invalid($"Count must be between 1 and {BucketNames.RunTaskMaxCount}.");
        }
        var strategy = Placement(cluster, r);
        // One capacity provider per call: the strategy's heaviest (the first of equals).
        var provider = strategy.OrderByDescending(s => s.Base > 0).ThenByDescending(s => s.Weight).First().CapacityProvider;
        if (admission.RunTask < 1)
        {
            throw new EcsException(EcsError.Throttling());
        }
        var type = cluster.Provider(provider)!.Type;
        var granted = type switch
        {
            CapacityType.Fargate => Math.Min(count, admission.FargateOnDemand),
            CapacityType.FargateSpot => Math.Min(count, admission.FargateSpot),
            _ => count,
        };
        var ids = new List<string>();
        for (var i = 0; i < granted; i++)
        {
            ids.Add(TaskId(account));
        }
        var startedBy = String(r, "startedBy");
        var body = Map(("account", Text(account.Spec.Id)), ("cluster", Text(cluster.Name)), ("taskDefinition", Text(LiveModel.Label(td.Spec))),
            ("count", Number(count)), ("capacityProvider", Text(provider)), ("startedBy", startedBy is null ? null : Text(startedBy)),
            ("taskIds", List(ids.Select(id => (YamlNode)Text(id)))));
        Accept(caller, "runTask", body);
        admission.RunTask--;
        if (type == CapacityType.Fargate)
        {
            admission.FargateOnDemand -= granted;
        }
        else if (type == CapacityType.FargateSpot)
        {
            admission.FargateSpot -= granted;
        }
        var tasks = new JsonArray();
        foreach (var id in ids)
        {
            var task = new LiveTask(id, LiveModel.Label(td.Spec), engine.Frontier)
            {
                StartedBy = startedBy ?? "", CapacityProvider = provider, Group = String(r, "group"),
                Cpu = td.Spec.ReservedCpu, MemoryMiB = td.Spec.ReservedMemoryMiB,
            };
            cluster.AddTask(task);
            tasks.Add(TaskObject(caller, cluster, task));
        }
        var failures = new JsonArray();
        for (var i = granted; i < count; i++)
        {
            failures.Add(new JsonObject
            {
                ["reason"] = "Rate exceeded",
                ["detail"] = $"The account's {(type == CapacityType.Fargate ? BucketNames.FargateOnDemand : BucketNames.FargateSpot)} task launch rate is exceeded; try again later.",
            });
        }
        return new JsonObject { ["tasks"] = tasks, ["failures"] = failures };
    }

    private static string TaskId(LiveAccount account)
    {
        // 32 hex digits like an ECS task id, from the account and its count of tasks: the same session gives the same ids.
        var n = ++account.RunTaskCount;
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{account.Spec.Id}/{n}"));
        return Convert.ToHexStringLower(hash, 0, 16);
    }

    private JsonObject StopTask(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "StopTask");
        var id = Leaf(caller, Required(r, "task"), "task", "StopTask");
        if (!cluster.Tasks.TryGetValue(id, out var task))
        {
            throw Invalid("The referenced task was not found.");
        }
        var reason = String(r, "reason") ?? StopTaskAction.DefaultReason;
        if (task.DesiredStatus != TaskStates.Stopped)
        {
            var host = task.Instance ?? (task.Zone is { } zone ? $"fargate-{task.CapacityProvider}-{zone}" : null);
            Accept(caller, "stopTask", Map(("account", Text(caller.Account.Spec.Id)), ("cluster", Text(cluster.Name)), ("task", Text(id)),
                ("reason", Text(reason)), ("host", host is null ? null : Text(host))));
            cluster.Change(task, t => t.DesiredStatus = TaskStates.Stopped);
            task.StoppedReason = reason;
            task.StopCode = "UserInitiated";
        }
        return new JsonObject { ["task"] = TaskObject(caller, cluster, task) };
    }

    private JsonObject DescribeTasks(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "DescribeTasks");
        var references = Strings(r, "tasks");
        if (references.Count == 0)
        {
            throw Invalid("Tasks cannot be empty.");
        }
        return DescribeByReferences(caller, references, "task", "DescribeTasks", cluster.Tasks,
            t => TaskObject(caller, cluster, t), id => TaskArn(caller, cluster.Name, id), "tasks");
    }

    private JsonObject ListTasks(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "ListTasks");
        var desired = String(r, "desiredStatus") ?? TaskStates.Running;
        var family = String(r, "family");
        var startedBy = String(r, "startedBy");
        var service = String(r, "serviceName") is { } sn ? Leaf(caller, sn, "service", "ListTasks") : null;
        var instance = String(r, "containerInstance") is { } ci ? Leaf(caller, ci, "container-instance", "ListTasks") : null;
        var launchType = String(r, "launchType");
        // The desired-status sets are kept in ListTasks order (creation time, then id).
        var matching = (desired == TaskStates.Stopped ? cluster.DesiredStopped : cluster.DesiredRunning).Where(t =>
                (family is null || t.TaskDefinition.StartsWith(family + ":", StringComparison.Ordinal))
                && (startedBy is null || t.StartedBy == startedBy)
                && (service is null || t.Service == service)
                && (instance is null || t.Instance == instance)
                && (launchType is null || LaunchType(cluster, t.CapacityProvider) == launchType));
        return Page(r, "taskArns", matching.Select(t => TaskArn(caller, cluster.Name, t.Id)));
    }

    private JsonObject TaskObject(EcsCaller caller, LiveCluster cluster, LiveTask t)
    {
        var taskArn = TaskArn(caller, cluster.Name, t.Id);
        var def = caller.Account.TaskDefinitions.GetValueOrDefault(t.TaskDefinition)?.Spec;
        var containers = new JsonArray();
        foreach (var c in def?.Containers ?? [])
        {
            containers.Add(new JsonObject
            {
                ["containerArn"] = $"arn:aws:ecs:{caller.Region}:{caller.Account.AccountId}:container/{cluster.Name}/{t.Id}/{c.Name}",
                ["taskArn"] = taskArn,
                ["name"] = c.Name,
                ["image"] = c.Image,
                ["lastStatus"] = t.LastStatus switch
                {
                    TaskStates.Running => "RUNNING",
                    TaskStates.Stopped => "STOPPED",
                    _ => "PENDING",
                },
                ["healthStatus"] = c.HealthCheck is null ? "UNKNOWN" : t.Health,
                ["cpu"] = c.Cpu.ToString(CultureInfo.InvariantCulture),
            });
        }
        var task = new JsonObject
        {
            ["taskArn"] = taskArn,
            ["clusterArn"] = ClusterArn(caller, cluster.Name),
            ["taskDefinitionArn"] = TaskDefinitionArn(caller, t.TaskDefinition),
            ["lastStatus"] = t.LastStatus,
            ["desiredStatus"] = t.DesiredStatus,
            ["healthStatus"] = t.Health,
            ["launchType"] = LaunchType(cluster, t.CapacityProvider),
            ["capacityProviderName"] = t.CapacityProvider,
            ["cpu"] = t.Cpu.ToString(CultureInfo.InvariantCulture),
            ["memory"] = t.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            ["createdAt"] = Model.Epoch(t.CreatedAtMs),
            ["group"] = t.Group ?? (t.Service is { } s ? $"service:{s}" : $"family:{t.TaskDefinition.Split(':')[0]}"),
            ["startedBy"] = t.StartedBy,
            ["containers"] = containers,
            ["attachments"] = new JsonArray(),
            ["attributes"] = new JsonArray(),
            ["tags"] = new JsonArray(),
            ["version"] = 1,
            ["enableExecuteCommand"] = false,
        };
        if (t.Zone is { } zone)
        {
            task["availabilityZone"] = caller.Region + zone;
        }
        if (t.Instance is { } instance)
        {
            task["containerInstanceArn"] = ContainerInstanceArn(caller, cluster.Name, instance);
        }
        if (t.StartedAtMs is { } started)
        {
            task["startedAt"] = Model.Epoch(started);
            task["connectivity"] = "CONNECTED";
            task["connectivityAt"] = Model.Epoch(started);
        }
        if (t.StoppingAtMs is { } stopping)
        {
            task["stoppingAt"] = Model.Epoch(stopping);
        }
        if (t.StoppedAtMs is { } stopped)
        {
            task["stoppedAt"] = Model.Epoch(stopped);
            task["executionStoppedAt"] = Model.Epoch(stopped);
        }
        if (t.StoppedReason is { } reason)
        {
            task["stoppedReason"] = reason;
            task["stopCode"] = t.StopCode ?? StopCode(reason, t.Service);
        }
        return task;
    }

    private static string StopCode(string reason, string? service) =>
        reason.StartsWith(StopReasons.EssentialExited, StringComparison.Ordinal) ? "EssentialContainerExited"
        : reason.Contains("spot", StringComparison.OrdinalIgnoreCase) ? "SpotInterruption"
        : reason.StartsWith(StopReasons.InstanceTerminatedPrefix, StringComparison.Ordinal) ? "TerminationNotice"
        : service is not null ? "ServiceSchedulerInitiated"
        : "TaskFailedToStart";

    // ------------------------------------------------------------------ container instances

    private JsonObject ListContainerInstances(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "ListContainerInstances");
        var status = String(r, "status");
        return Page(r, "containerInstanceArns", cluster.Instances.Values
            .Where(i => status is null ? i.EcsStatus is "ACTIVE" or "DRAINING" : i.EcsStatus == status)
            .Select(i => ContainerInstanceArn(caller, cluster.Name, i.Id)));
    }

    private JsonObject DescribeContainerInstances(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "DescribeContainerInstances");
        return DescribeByReferences(caller, Strings(r, "containerInstances"), "container-instance", "DescribeContainerInstances", cluster.Instances,
            i => InstanceObject(caller, cluster, i, cluster.LiveTasksOn(i.Id)), id => ContainerInstanceArn(caller, cluster.Name, id), "containerInstances");
    }

    private JsonObject UpdateContainerInstancesState(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, String(r, "cluster") ?? "default", "UpdateContainerInstancesState");
        var status = Required(r, "status");
        if (status is not ("ACTIVE" or "DRAINING"))
        {
            throw Invalid("Container instance status must be ACTIVE or DRAINING.");
        }
        var found = new JsonArray();
        var failures = new JsonArray();
        foreach (var reference in Strings(r, "containerInstances"))
        {
            var id = Leaf(caller, reference, "container-instance", "UpdateContainerInstancesState");
            if (!cluster.Instances.TryGetValue(id, out var i) || i.State == InstanceStates.Terminated)
            {
                failures.Add(Failure(ContainerInstanceArn(caller, cluster.Name, id), "MISSING"));
                continue;
            }
            if (status == "DRAINING" && i.State != InstanceStates.Draining)
            {
                Accept(caller, "drainInstance", Map(("account", Text(caller.Account.Spec.Id)), ("cluster", Text(cluster.Name)), ("instance", Text(id))));
                i.State = InstanceStates.Draining;
            }
            else if (status == "ACTIVE" && i.State == InstanceStates.Draining)
            {
                failures.Add(Failure(ContainerInstanceArn(caller, cluster.Name, id), "UNSUPPORTED",
                    "A draining container instance is replaced by the simulator; it does not return to ACTIVE."));
                continue;
            }
            found.Add(InstanceObject(caller, cluster, i, cluster.LiveTasksOn(id)));
        }
        return new JsonObject { ["containerInstances"] = found, ["failures"] = failures };
    }

    private JsonObject InstanceObject(EcsCaller caller, LiveCluster cluster, LiveInstance i, IEnumerable<LiveTask> tasks)
    {
        var type = Model.Catalog.Find(i.InstanceType);
        var cpu = (long)((type?.Vcpu ?? 0) * 1024);
        var memory = type?.MemoryMiB ?? 0;
        var list = tasks.ToList();
        var usedCpu = list.Sum(t => (long)t.Cpu);
        var usedMemory = list.Sum(t => t.MemoryMiB);
        JsonArray Resources(long c, long m) => new(
            new JsonObject { ["name"] = "CPU", ["type"] = "INTEGER", ["integerValue"] = c },
            new JsonObject { ["name"] = "MEMORY", ["type"] = "INTEGER", ["integerValue"] = m });
        return new JsonObject
        {
            ["containerInstanceArn"] = ContainerInstanceArn(caller, cluster.Name, i.Id),
            ["ec2InstanceId"] = i.Id,
            ["capacityProviderName"] = i.CapacityProvider,
            ["version"] = 1,
            ["versionInfo"] = new JsonObject { ["agentVersion"] = "1.90.0", ["dockerVersion"] = "bottlerocket " + i.Ami },
            ["registeredResources"] = Resources(cpu, memory),
            ["remainingResources"] = Resources(Math.Max(0, cpu - usedCpu), Math.Max(0, memory - usedMemory)),
            ["status"] = i.EcsStatus,
            ["agentConnected"] = i.State != InstanceStates.Terminated,
            ["runningTasksCount"] = list.Count(t => t.LastStatus == TaskStates.Running),
            ["pendingTasksCount"] = list.Count(t => t.LastStatus != TaskStates.Running),
            ["attributes"] = new JsonArray(
                new JsonObject { ["name"] = "ecs.availability-zone", ["value"] = caller.Region + i.Zone },
                new JsonObject { ["name"] = "ecs.instance-type", ["value"] = i.InstanceType },
                new JsonObject { ["name"] = "ecs.ami-id", ["value"] = i.Ami }),
            ["registeredAt"] = Model.Epoch(i.RegisteredAtMs),
            ["attachments"] = new JsonArray(),
            ["tags"] = new JsonArray(),
        };
    }

    // ------------------------------------------------------------------ task protection

    private JsonObject UpdateTaskProtection(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, Required(r, "cluster"), "UpdateTaskProtection");
        var enabled = Bool(r, "protectionEnabled") ?? throw Invalid("protectionEnabled must be given.");
        var minutes = Int(r, "expiresInMinutes") ?? 120;
        if (minutes is < 1 or > 2880)
        {
            throw Invalid("expiresInMinutes must be between 1 and 2880 (48 hours).");
        }
        var protectedTasks = new JsonArray();
        var failures = new JsonArray();
        var byService = new SortedDictionary<string, List<LiveTask>>(StringComparer.Ordinal);
        foreach (var reference in Strings(r, "tasks"))
        {
            var id = Leaf(caller, reference, "task", "UpdateTaskProtection");
            if (!cluster.Tasks.TryGetValue(id, out var t) || t.DesiredStatus == TaskStates.Stopped)
            {
                failures.Add(Failure(TaskArn(caller, cluster.Name, id), "TASK_NOT_VALID", "The task is not running in this cluster."));
                continue;
            }
            if (t.Service is null)
            {
                failures.Add(Failure(TaskArn(caller, cluster.Name, id), "TASK_NOT_VALID", "Task scale-in protection applies to tasks of a service."));
                continue;
            }
            (byService.TryGetValue(t.Service, out var list) ? list : byService[t.Service] = []).Add(t);
        }
        foreach (var (service, tasks) in byService)
        {
            Accept(caller, "updateTaskProtection", Map(("account", Text(caller.Account.Spec.Id)), ("cluster", Text(cluster.Name)),
                ("service", Text(service)), ("tasks", List(tasks.Select(t => (YamlNode)Text(t.Id)))), ("protectionEnabled", Flag(enabled)),
                ("expiresIn", enabled ? new YamlScalarNode($"{minutes}m") : null)));
            foreach (var t in tasks)
            {
                t.ProtectedUntilMs = enabled ? engine.Frontier + minutes * 60_000L : null;
                protectedTasks.Add(ProtectionObject(caller, cluster, t));
            }
        }
        return new JsonObject { ["protectedTasks"] = protectedTasks, ["failures"] = failures };
    }

    private JsonObject GetTaskProtection(EcsCaller caller, JsonElement r)
    {
        var cluster = Cluster(caller, Required(r, "cluster"), "GetTaskProtection");
        return DescribeByReferences(caller, Strings(r, "tasks"), "task", "GetTaskProtection", cluster.Tasks,
            t => ProtectionObject(caller, cluster, t), id => TaskArn(caller, cluster.Name, id), "protectedTasks");
    }

    private JsonObject ProtectionObject(EcsCaller caller, LiveCluster cluster, LiveTask t)
    {
        var on = t.ProtectedUntilMs is { } until && until > engine.NowMs;
        var json = new JsonObject { ["taskArn"] = TaskArn(caller, cluster.Name, t.Id), ["protectionEnabled"] = on };
        if (on)
        {
            json["expirationDate"] = Model.Epoch(t.ProtectedUntilMs!.Value);
        }
        return json;
    }

    // ------------------------------------------------------------------ shared

    /// <summary>Turns a call into a timeline action through the scenario loader's checks and queues it for the next tick.</summary>
    private TimelineAction Accept(EcsCaller caller, string actionName, YamlMappingNode body, bool asClientError = false)
    {
        var (action, errors) = engine.Parser.Parse(actionName, body);
        if (action is null)
        {
            var message = string.Join("; ", errors.Select(e => e.Field.Length == 0 ? e.Message : $"{e.Field}: {e.Message}"));
            throw new EcsException(asClientError ? EcsError.Client(message) : EcsError.InvalidParameter(message));
        }
        engine.Enqueue(actionName, body, action);
        return action;
    }

    /// <summary>The capacity provider strategy of a CreateService or RunTask: given, from the launch type, the cluster's default, or its only provider.</summary>
    private static List<CapacityProviderStrategyItem> Placement(LiveCluster cluster, JsonElement r)
    {
        var strategy = Strategy(r, "capacityProviderStrategy");
        var launchType = String(r, "launchType");
        if (strategy.Count > 0 && launchType is not null)
        {
            throw Invalid("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.");
        }
        if (strategy.Count > 0)
        {
            foreach (var item in strategy.Where(i => !cluster.Associated.Contains(i.CapacityProvider)))
            {
                throw Invalid($"The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again. ({item.CapacityProvider})");
            }
            return strategy;
        }
        if (launchType is not null)
        {
            var wanted = launchType switch
            {
                "FARGATE" => new[] { CapacityType.Fargate },
                "EC2" => [CapacityType.Ec2, CapacityType.ManagedInstances],
                "MANAGED_INSTANCES" => [CapacityType.ManagedInstances],
                "EXTERNAL" => [CapacityType.External],
                _ => throw Invalid($"Unknown launch type {launchType}."),
            };
            var match = cluster.Providers.FirstOrDefault(p => wanted.Contains(p.Type))
                ?? throw Invalid($"The cluster has no capacity for launch type {launchType}.");
            return [new CapacityProviderStrategyItem(match.Name, 1, 0)];
        }
        if (cluster.DefaultStrategy.Count > 0)
        {
            return cluster.DefaultStrategy;
        }
        var instanceBacked = cluster.Providers.Where(p => cluster.Associated.Contains(p.Name)).ToList();
        if (instanceBacked.Count == 1)
        {
            return [new CapacityProviderStrategyItem(instanceBacked[0].Name, 1, 0)];
        }
        throw Invalid("No launch type or capacity provider strategy was given and the cluster has no default capacity provider strategy.");
    }

    private static List<CapacityProviderStrategyItem> Strategy(JsonElement r, string field)
    {
        var list = new List<CapacityProviderStrategyItem>();
        if (r.TryGetProperty(field, out var items) && items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                list.Add(new CapacityProviderStrategyItem(Required(item, "capacityProvider"), Int(item, "weight") ?? 0, Int(item, "base") ?? 0));
            }
            if (list.Count > 0 && list.All(i => i.Weight == 0))
            {
                // ECS treats a lone provider without weight as weight 1.
                list = list.Select(i => i with { Weight = 1 }).ToList();
            }
        }
        return list;
    }

    private static JsonArray StrategyJson(IEnumerable<CapacityProviderStrategyItem> items) =>
        new(items.Select(i => (JsonNode)new JsonObject { ["capacityProvider"] = i.CapacityProvider, ["weight"] = i.Weight, ["base"] = i.Base }).ToArray());

    private static bool AssignPublicIp(JsonElement r) =>
        !(r.TryGetProperty("networkConfiguration", out var n) && n.TryGetProperty("awsvpcConfiguration", out var a)
            && String(a, "assignPublicIp") == "DISABLED");

    /// <summary>
    /// DescribeClusters' STATISTICS: tasks pending and running, services active and draining, by launch kind as ECS
    /// names them (EC2 counts EC2 and Managed Instances capacity; FARGATE counts Fargate Spot too).
    /// </summary>
    private static JsonArray ClusterStatistics(LiveCluster c)
    {
        string Kind(string provider) => LaunchType(c, provider) switch { "FARGATE" => "Fargate", "EXTERNAL" => "External", _ => "EC2" };
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var kind in new[] { "EC2", "Fargate", "External" })
        {
            foreach (var figure in new[] { "running{0}TasksCount", "pending{0}TasksCount", "active{0}ServiceCount", "draining{0}ServiceCount" })
            {
                counts[string.Format(System.Globalization.CultureInfo.InvariantCulture, figure, kind)] = 0;
            }
        }
        foreach (var t in c.Tasks.Values)
        {
            if (t.LastStatus == TaskStates.Running)
            {
                counts[$"running{Kind(t.CapacityProvider)}TasksCount"]++;
            }
            else if (t.LastStatus is TaskStates.Provisioning or TaskStates.Pending or TaskStates.Activating)
            {
                counts[$"pending{Kind(t.CapacityProvider)}TasksCount"]++;
            }
        }
        foreach (var service in c.Services.Values.Where(s => s.Status is "ACTIVE" or "DRAINING"))
        {
            var provider = service.Spec.CapacityProviderStrategy.Count > 0 ? service.Spec.CapacityProviderStrategy[0].CapacityProvider : "";
            counts[$"{(service.Status == "ACTIVE" ? "active" : "draining")}{Kind(provider)}ServiceCount"]++;
        }
        return new JsonArray(counts.Select(kv => (JsonNode)new JsonObject
        {
            ["name"] = kv.Key, ["value"] = kv.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).ToArray());
    }

    private static string LaunchType(LiveCluster cluster, string provider) => cluster.Provider(provider)?.Type switch
    {
        CapacityType.Fargate or CapacityType.FargateSpot => "FARGATE",
        CapacityType.External => "EXTERNAL",
        CapacityType.ManagedInstances => "MANAGED_INSTANCES",
        _ => "EC2",
    };

    private LiveCluster Cluster(EcsCaller caller, string reference, string action)
    {
        var name = ClusterName(caller, reference, action);
        if (!caller.Account.Clusters.TryGetValue(name, out var cluster) || cluster.Status != "ACTIVE")
        {
            throw new EcsException(EcsError.ClusterNotFound());
        }
        return cluster;
    }

    /// <summary>A cluster name, or the name in a cluster ARN; another account's ARN is refused as IAM refuses it.</summary>
    private static string ClusterName(EcsCaller caller, string reference, string action) =>
        reference.StartsWith("arn:", StringComparison.Ordinal) ? ParseArn(caller, reference, "cluster", action) : reference;

    /// <summary>The last part of an ARN of <paramref name="kind"/> (task/cluster/id gives id), or the reference itself.</summary>
    private static string Leaf(EcsCaller caller, string reference, string kind, string action)
    {
        if (!reference.StartsWith("arn:", StringComparison.Ordinal))
        {
            return reference;
        }
        var resource = ParseArn(caller, reference, kind, action);
        return resource[(resource.LastIndexOf('/') + 1)..];
    }

    private static string ParseArn(EcsCaller caller, string arn, string kind, string action)
    {
        // arn:aws:ecs:region:account:kind/rest
        var parts = arn.Split(':', 6);
        if (parts.Length != 6 || parts[2] != "ecs" || !parts[5].StartsWith(kind + "/", StringComparison.Ordinal))
        {
            throw Invalid($"Invalid {kind} ARN: {arn}");
        }
        if (parts[4] != caller.Account.AccountId)
        {
            throw new EcsException(EcsError.AccessDenied(caller.Account.AccountId, action, arn));
        }
        return parts[5][(kind.Length + 1)..];
    }

    private static JsonObject Page(JsonElement r, string field, IEnumerable<string> items)
    {
        var offset = 0;
        if (String(r, "nextToken") is { } token && !int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
        {
            throw Invalid("Invalid nextToken.");
        }
        var size = Math.Clamp(Int(r, "maxResults") ?? PageSize, 1, PageSize);
        var page = items.Skip(offset).Take(size + 1).ToList();
        var result = new JsonObject { [field] = new JsonArray(page.Take(size).Select(a => (JsonNode)JsonValue.Create(a)!).ToArray()) };
        if (page.Count > size)
        {
            result["nextToken"] = (offset + size).ToString(CultureInfo.InvariantCulture);
        }
        return result;
    }

    /// <summary>
    /// The Describe* answer for a list of names or ARNs of one <paramref name="kind"/>: each one found is described into
    /// <paramref name="field"/>, each one not found is a MISSING failure with its ARN; another account's ARN is refused.
    /// </summary>
    private static JsonObject DescribeByReferences<T>(EcsCaller caller, IEnumerable<string> references, string kind, string action,
        IReadOnlyDictionary<string, T> items, Func<T, JsonObject> describe, Func<string, string> arnOf, string field)
    {
        var found = new JsonArray();
        var failures = new JsonArray();
        foreach (var reference in references)
        {
            var id = Leaf(caller, reference, kind, action);
            if (items.TryGetValue(id, out var item))
            {
                found.Add(describe(item));
            }
            else
            {
                failures.Add(Failure(arnOf(id), "MISSING"));
            }
        }
        return new JsonObject { [field] = found, ["failures"] = failures };
    }

    private static JsonObject Failure(string arn, string reason, string? detail = null)
    {
        var f = new JsonObject { ["arn"] = arn, ["reason"] = reason };
        if (detail is not null)
        {
            f["detail"] = detail;
        }
        return f;
    }

    private static string Arn(EcsCaller c, string resource) => $"arn:aws:ecs:{c.Region}:{c.Account.AccountId}:{resource}";
    private static string ClusterArn(EcsCaller c, string cluster) => Arn(c, $"cluster/{cluster}");
    private static string ServiceArn(EcsCaller c, string cluster, string service) => Arn(c, $"service/{cluster}/{service}");
    private static string TaskArn(EcsCaller c, string cluster, string task) => Arn(c, $"task/{cluster}/{task}");
    private static string TaskDefinitionArn(EcsCaller c, string label) => Arn(c, $"task-definition/{label}");
    private static string ContainerInstanceArn(EcsCaller c, string cluster, string id) => Arn(c, $"container-instance/{cluster}/{id}");

    private static EcsException Invalid(string message) => new(EcsError.InvalidParameter(message));
    private static EcsException Client(string message) => new(EcsError.Client(message));

    internal static string? String(JsonElement r, string field) =>
        r.ValueKind == JsonValueKind.Object && r.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string Required(JsonElement r, string field) =>
        String(r, field) ?? throw Invalid($"{field} must be specified.");

    internal static int? Int(JsonElement r, string field) =>
        r.ValueKind == JsonValueKind.Object && r.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : null;

    internal static bool? Bool(JsonElement r, string field) =>
        r.ValueKind == JsonValueKind.Object && r.TryGetProperty(field, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    internal static List<string> Strings(JsonElement r, string field) =>
        r.ValueKind == JsonValueKind.Object && r.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList()
            : [];
}
