using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Cluster;

public sealed partial class ClusterStep
{
    private static readonly IReadOnlySet<string> NoServices = new HashSet<string>();

    /// <summary>
    /// Tells the services which hosts drain and which zones are up, when that changed, and returns the services told
    /// (they reconcile this tick). A change of zones concerns every service; a change of draining hosts concerns the
    /// services with tasks on a host that started draining, and those whose rebalancing waits for the fleet to change.
    /// To any other service the news changes nothing: none of its tasks is on those hosts, and its rebalancing is not
    /// waiting, so it is not called.
    /// </summary>
    private async Task<IReadOnlySet<string>> UpdateFleet()
    {
        var s = _book;
        var setup = Setup;
        var zones = setup.Cluster.Zones.Where(z => !s.FailedZones.ContainsKey(z)).ToList();
        var zoneKey = string.Join(",", zones);
        IEnumerable<string> told;
        if (zoneKey != s.LastZones)
        {
            told = setup.Cluster.Services.Select(svc => svc.Name);
        }
        else if (s.DrainingToggled.Count > 0)
        {
            told = s.FleetAffected.Union(s.ServicesWatchingFleet, StringComparer.Ordinal).Where(ServicesByName.ContainsKey);
        }
        else
        {
            return NoServices;
        }
        var names = told.ToHashSet(StringComparer.Ordinal);
        s.LastZones = zoneKey;
        s.DrainingToggled.Clear();
        s.FleetAffected.Clear();
        if (names.Count == 0)
        {
            return NoServices;
        }
        var draining = Index.Draining.ToList();
        // Each service is told the zones it may use (its memberOf may pin it): rebalancing evens it over those only.
        await _fleet.UpdateFleet(names.Order(StringComparer.Ordinal).Select(name => new FleetNews(name, draining,
            MemberOfExpression.UsableZones(TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, ServicesByName[name].TaskDefinition)?.PlacementConstraints
                .FirstOrDefault(c => c.Type == PlacementConstraintType.MemberOf)?.Expression, zones),
            setup.Cluster.Rebalancing)).ToList());
        return names;
    }

    /// <summary>The cluster's services by name (rebuilt when a service is created).</summary>
    private Dictionary<string, ServiceSpec> ServicesByName
    {
        get
        {
            if (_serviceSpecs is null || !ReferenceEquals(_serviceSpecsOf, Setup))
            {
                _serviceSpecsOf = Setup;
                _serviceSpecs = Setup.Cluster.Services.ToDictionary(svc => svc.Name, StringComparer.Ordinal);
            }
            return _serviceSpecs;
        }
    }
    private Dictionary<string, ServiceSpec>? _serviceSpecs;
    private ClusterSetup? _serviceSpecsOf;


    /// <summary>
    /// Services reconcile in workflow cycles: each cycle a service may launch what its
    /// deployment-rate bucket and the account's launch buckets allow, and the rest of its shortfall waits for
    /// the next cycle. Services on instances only draw on their own bucket and reconcile in parallel;
    /// Fargate services share the account's buckets and go one by one in name order (after this cluster's
    /// RunTask calls; the account ticks its clusters in name order), so contention is settled by a fixed rule.
    /// </summary>
    private async Task Reconcile(long nowMs, List<TaskUpdate> updates, Dictionary<string, UpdateServiceAction> apiUpdates,
        Dictionary<string, List<string>> unplaceable, IReadOnlySet<string>? fleetServices, List<SimEvent> events)
    {
        var setup = Setup;
        var s = _book;
        var byService = updates.Where(u => u.Service is not null).GroupBy(u => u.Service!).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var names = setup.Cluster.Services.Select(svc => svc.Name)
            .Where(n => fleetServices is null || fleetServices.Contains(n) || byService.ContainsKey(n) || apiUpdates.ContainsKey(n) || unplaceable.ContainsKey(n) || s.ServicesWaiting.Contains(n)
                || (s.ServiceWakeAtMs.TryGetValue(n, out var wake) && wake <= nowMs))
            .Order(StringComparer.Ordinal).ToList();
        var specs = names.Select(n => ServicesByName[n]).ToList();
        var results = new ServiceTick[names.Count];
        var available = new Dictionary<string, int>(StringComparer.Ordinal);

        ServiceCall Call(int i, int maxStarts) => new(names[i], nowMs,
            byService.TryGetValue(names[i], out var u) ? u : [],
            apiUpdates.GetValueOrDefault(names[i]),
            unplaceable.TryGetValue(names[i], out var lost) ? lost : [],
            maxStarts);

        var onInstances = Enumerable.Range(0, names.Count).Where(i => !UsesFargate(specs[i])).ToList();
        var onInstanceResults = await _fleet.Reconcile(onInstances.Select(i => Call(i, DeploymentTokens(specs[i], nowMs))).ToList());
        for (var k = 0; k < onInstances.Count; k++)
        {
            results[onInstances[k]] = onInstanceResults[k];
        }
        for (var i = 0; i < names.Count; i++)
        {
            if (!UsesFargate(specs[i]))
            {
                continue;
            }
            foreach (var bucket in specs[i].CapacityProviderStrategy.Select(x => LaunchBucketOf(x.CapacityProvider)).OfType<string>().Distinct())
            {
                if (!available.ContainsKey(bucket))
                {
                    available[bucket] = await _fleet.Available(bucket, nowMs, Limit(bucket));
                }
            }
            var deployTokens = DeploymentTokens(specs[i], nowMs);
            var (allowance, limitedBy) = FargateAllowance(specs[i], deployTokens, available);
            results[i] = (await _fleet.Reconcile([Call(i, allowance)]))[0];
            foreach (var cp in CapacityProviderStrategies.Assign(specs[i].CapacityProviderStrategy, ProviderCounts(names[i]), results[i].Start.Count))
            {
                if (LaunchBucketOf(cp) is { } used)
                {
                    available[used]--;
                }
            }
            var wanted = Math.Min(deployTokens, results[i].Start.Count + results[i].Backlog);
            if (LaunchAllowance.BeginsThrottleEpisode(s.ServicesThrottled, names[i], limitedBy, wanted, results[i].Start.Count, results[i].Backlog))
            {
                events.Add(ThrottleEvent(nowMs, limitedBy!, wanted, results[i].Start.Count));
            }
        }
        unplaceable.Clear();

        var stops = new List<ServiceTaskRef>();
        var take = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            var spec = specs[i];
            var result = results[i];
            events.AddRange(result.Events);
            if (result.Backlog > 0)
            {
                s.ServicesWaiting.Add(spec.Name);
            }
            else
            {
                s.ServicesWaiting.Remove(spec.Name);
            }
            if (result.WatchesFleet)
            {
                s.ServicesWatchingFleet.Add(spec.Name);
            }
            else
            {
                s.ServicesWatchingFleet.Remove(spec.Name);
            }
            if (result.Doomed is { Count: > 0 } doomed)
            {
                s.DoomedZoneCounts[spec.Name] = doomed;
            }
            else
            {
                s.DoomedZoneCounts.Remove(spec.Name);
            }
            if (result.WakeAtMs != long.MaxValue)
            {
                s.ServiceWakeAtMs[spec.Name] = result.WakeAtMs;
            }
            else
            {
                s.ServiceWakeAtMs.Remove(spec.Name);
            }
            if (result.ProtectedInstances is { Count: > 0 } pinned)
            {
                if (!s.ProtectedHosts.TryGetValue(spec.Name, out var was) || !was.SequenceEqual(pinned))
                {
                    s.ProtectedHosts[spec.Name] = [.. pinned];
                    s.ConsolidationVersion++;
                }
            }
            else if (s.ProtectedHosts.Remove(spec.Name))
            {
                s.ConsolidationVersion++;
            }
            var def = TaskLaunches.Resolve(setup.Cluster.TaskDefinitions, result.TaskDefinition)
                ?? throw new InvalidOperationException($"unknown task definition {result.TaskDefinition}");
            var providers = CapacityProviderStrategies.Assign(spec.CapacityProviderStrategy, ProviderCounts(spec.Name), result.Start.Count);
            var templates = new Dictionary<string, (TaskLaunchTemplate Template, string? Bucket, int Count)>(StringComparer.Ordinal);
            s.Pending.EnsureCapacity(s.Pending.Count + result.Start.Count);
            events.EnsureCapacity(events.Count + result.Start.Count);
            for (var k = 0; k < result.Start.Count; k++)
            {
                var cp = providers[k];
                if (!templates.TryGetValue(cp, out var template))
                {
                    template = (TaskLaunches.Template(def, spec.Name, cp, null, spec.LoadBalancer, spec.AssignPublicIp), LaunchBucketOf(cp), 0);
                }
                templates[cp] = template with { Count = template.Count + 1 };
                Enqueue(template.Template.Create(result.Start[k], nowMs, setup.Run.Seed), nowMs, events);
            }
            // Counted once per provider: the same counts as one task at a time.
            foreach (var (cp, template) in templates)
            {
                CountProvider(spec.Name, cp, template.Count);
                if (template.Bucket is { } bucket)
                {
                    take[bucket] = take.GetValueOrDefault(bucket) + template.Count;
                }
            }
            if (result.Start.Count > 0)
            {
                TakeDeploymentTokens(spec, nowMs, result.Start.Count);
            }
            stops.AddRange(result.Stop);
        }
        foreach (var (bucket, n) in take)
        {
            // Within what Available reported in this same sequential flow, so always granted in full.
            await _fleet.TryAcquire(bucket, nowMs, n, Limit(bucket));
        }
        foreach (var group in stops.GroupBy(x => x.Reason).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            await Stop(nowMs, group.ToList(), group.Key, events);
        }
    }

    private bool UsesFargate(ServiceSpec spec) => spec.CapacityProviderStrategy.Any(x => Traits(x.CapacityProvider).Fargate);

    private IReadOnlyDictionary<string, int> ProviderCounts(string service) =>
        _book.ServiceProviderCounts.TryGetValue(service, out var c) ? c : new SortedDictionary<string, int>(StringComparer.Ordinal);

    private BucketLimit DeploymentLimit(ServiceSpec spec) =>
        BucketNames.DeploymentLimit(Limit(Traits(spec.CapacityProviderStrategy[0].CapacityProvider).DeploymentBucket), Setup.Run.TickMs);

    private int DeploymentTokens(ServiceSpec spec, long nowMs) =>
        LaunchAllowance.DeploymentTokens(_book.DeploymentBuckets, spec.Name, DeploymentLimit(spec), nowMs);

    private void TakeDeploymentTokens(ServiceSpec spec, long nowMs, int n) =>
        LaunchAllowance.TakeDeploymentTokens(_book.DeploymentBuckets, spec.Name, DeploymentLimit(spec), nowMs, n);

    private (int Allowance, string? LimitedBy) FargateAllowance(ServiceSpec spec, int deployTokens, IReadOnlyDictionary<string, int> availableNow) =>
        LaunchAllowance.Fargate(spec.CapacityProviderStrategy, ProviderCounts(spec.Name), deployTokens, availableNow, cp => LaunchBucketOf(cp));

    private async Task Stop(long nowMs, List<ServiceTaskRef> stops, string reason, List<SimEvent> events)
    {
        var s = _book;
        var placed = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var stop in stops)
        {
            var pending = s.Pending.FindIndex(p => p.TaskId == stop.TaskId);
            if (pending >= 0)
            {
                // Never placed: it stops without having run.
                var launch = s.Pending[pending];
                s.Pending.RemoveAt(pending);
                if (launch.Service is not null)
                {
                    CountProvider(launch.Service, launch.CapacityProvider, -1);
                }
                events.Add(TaskEvent(nowMs, launch, TaskStates.Stopped, null, null, reason));
                continue;
            }
            var host = stop.Instance ?? FargateHost(stop);
            if (host is not null)
            {
                (placed.TryGetValue(host, out var list) ? list : placed[host] = []).Add(stop.TaskId);
            }
        }
        var reports = await _fleet.Send(placed.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (HostCommand)new StopHostTasks(kv.Key, nowMs, kv.Value, reason)).ToList());
        Absorb(reports, events);
    }

    private string? FargateHost(ServiceTaskRef stop) =>
        stop.Zone is null ? null : _book.Hosts.Where(kv => kv.Value.DueMs is not null && kv.Key.StartsWith("fargate-", StringComparison.Ordinal) && kv.Value.Zone == stop.Zone)
            .Select(kv => kv.Key).FirstOrDefault();

}
