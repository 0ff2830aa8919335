using Scheduler.Core.Catalog;
using Scheduler.Core.Cluster;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Cluster;

/// <summary>
/// Runs one cluster of a scenario through the pure <see cref="ClusterStep"/> with no Orleans: the hosts, services,
/// buckets and placement view are the same Core agents the grains persist, held in dictionaries, and every command
/// the step sends is recorded. The clock advances like the simulation's: to the cluster's next due time or the next
/// timeline entry, whichever comes first, until the scenario's end.
/// </summary>
public sealed class ClusterHarness : IClusterFleet
{
    private readonly Scenario _scenario;
    private readonly AccountSpec _account;
    private readonly ClusterSpec _cluster;
    private readonly ClusterSetup _setup;

    public ClusterBook Book { get; } = new();
    public SortedDictionary<string, InstanceAgent> Hosts { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, ServiceAgent> Services { get; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, BucketAgent> Buckets { get; } = new(StringComparer.Ordinal);
    public PlacementAgent Placement { get; } = new();

    /// <summary>Every host command the step sent, in the order sent.</summary>
    public List<HostCommand> Commands { get; } = [];

    /// <summary>Each host's report on the command at the same position of <see cref="Commands"/>.</summary>
    public List<HostReport> Reports { get; } = [];

    /// <summary>Every service reconciliation the step asked for, in the order asked.</summary>
    public List<ServiceCall> Reconciliations { get; } = [];

    /// <summary>Each batch of host commands: its size, in the order sent.</summary>
    public List<int> Batches { get; } = [];

    public List<SimEvent> Events { get; } = [];
    public long Ticks { get; private set; }

    private ClusterHarness(Scenario scenario, AccountSpec account, ClusterSpec cluster, InstanceTypeCatalog catalog)
    {
        _scenario = scenario;
        _account = account;
        _cluster = cluster;
        var tickMs = (long)scenario.Tick.TotalMilliseconds;
        var run = new RunSettings("harness", scenario.Seed, tickMs, scenario.InitialAmi, catalog.Types, scenario.Start, null, scenario.LaunchPipeline, scenario.Runtime);
        _setup = new ClusterSetup(run, account.Id, cluster, account.Limits);
    }

    /// <summary>A harness for the scenario's only cluster (a scenario of one account with one cluster and no job queues).</summary>
    public static async Task<ClusterHarness> StartAsync(Scenario scenario, InstanceTypeCatalog? catalog = null)
    {
        var account = Assert.Single(scenario.Accounts);
        var cluster = Assert.Single(account.Clusters);
        Assert.Empty(cluster.JobQueues);
        var harness = new ClusterHarness(scenario, account, cluster, catalog ?? InstanceTypeCatalog.Default);
        await new ClusterStep(harness.Book, harness).Init(harness._setup);
        return harness;
    }

    /// <summary>Parses and runs a scenario to its end.</summary>
    public static async Task<ClusterHarness> RunAsync(string yaml)
    {
        var loaded = ScenarioLoader.Parse(yaml, "harness.yaml");
        Assert.True(loaded.Ok, string.Join("\n", loaded.Errors));
        var harness = await StartAsync(loaded.Scenario!, loaded.Catalog ?? InstanceTypeCatalog.Default);
        await harness.RunToEndAsync();
        return harness;
    }

    /// <summary>Ticks the cluster until nothing is due before the scenario's end.</summary>
    public async Task RunToEndAsync()
    {
        var tickMs = _setup.Run.TickMs;
        var endMs = SimulationLimits.EndMs(_scenario);
        var timeline = _scenario.Timeline;
        var next = 0;
        var dueMs = 0L;
        while (true)
        {
            var at = dueMs;
            if (next < timeline.Count)
            {
                at = Math.Min(at, ClusterStep.AlignUp((long)timeline[next].At.TotalMilliseconds, tickMs));
            }
            if (at == long.MaxValue || at > endMs)
            {
                return;
            }
            var inputs = new List<TimelineAction>();
            while (next < timeline.Count && ClusterStep.AlignUp((long)timeline[next].At.TotalMilliseconds, tickMs) == at)
            {
                if (IsForThisCluster(timeline[next].Action))
                {
                    inputs.Add(timeline[next].Action);
                }
                next++;
            }
            // A round of the simulation's clock, whether or not the cluster has anything to do in it.
            Ticks++;
            if (dueMs > at && inputs.Count == 0)
            {
                continue;
            }
            var result = await new ClusterStep(Book, this).Tick(at, inputs);
            Events.AddRange(result.Events);
            dueMs = result.NextDueMs;
        }
    }

    private bool IsForThisCluster(TimelineAction action) => action switch
    {
        ReleaseAmiAction or RegisterTaskDefinitionAction => true,
        RunTaskAction a => a.Account == _account.Id && a.Cluster == _cluster.Name,
        UpdateServiceAction a => a.Account == _account.Id && a.Cluster == _cluster.Name,
        FailZoneAction a => a.Account == _account.Id && a.Cluster == _cluster.Name,
        DrainInstanceAction a => a.Account == _account.Id && a.Cluster == _cluster.Name,
        UpdateTaskProtectionAction a => a.Account == _account.Id && a.Cluster == _cluster.Name,
        CreateServiceAction a => a.Account == _account.Id && a.Cluster == _cluster.Name,
        StopTaskAction a => a.Account == _account.Id && a.Cluster == _cluster.Name,
        _ => throw new NotSupportedException($"the harness runs one cluster; {action.GetType().Name} is not for it"),
    };

    public Task<IReadOnlyList<HostReport>> Send(IReadOnlyList<HostCommand> commands)
    {
        Assert.Equal(commands.Count, commands.Select(c => c.Host).Distinct(StringComparer.Ordinal).Count());
        Commands.AddRange(commands);
        Batches.Add(commands.Count);
        var reports = new HostReport[commands.Count];
        for (var i = 0; i < commands.Count; i++)
        {
            if (!Hosts.TryGetValue(commands[i].Host, out var host))
            {
                Assert.IsType<LaunchHost>(commands[i]);
                Hosts[commands[i].Host] = host = new InstanceAgent();
            }
            reports[i] = host.Apply(commands[i]);
        }
        Reports.AddRange(reports);
        return Task.FromResult<IReadOnlyList<HostReport>>(reports);
    }

    public Task InitServices(IReadOnlyList<ServiceSetup> services)
    {
        foreach (var setup in services)
        {
            var agent = new ServiceAgent();
            agent.Init(setup);
            Services[setup.Service.Name] = agent;
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ServiceTick>> Reconcile(IReadOnlyList<ServiceCall> calls)
    {
        Assert.Equal(calls.Count, calls.Select(c => c.Service).Distinct(StringComparer.Ordinal).Count());
        Reconciliations.AddRange(calls);
        return Task.FromResult<IReadOnlyList<ServiceTick>>(
            calls.Select(c => Services[c.Service].Reconcile(c.NowMs, c.Updates, c.Update, c.Unplaceable, c.MaxStarts)).ToList());
    }

    public Task UpdateFleet(IReadOnlyList<FleetNews> news)
    {
        foreach (var n in news)
        {
            Services[n.Service].UpdateFleet(n.DrainingInstances, n.AvailableZones, n.Rebalancing);
        }
        return Task.CompletedTask;
    }

    public Task SetTaskProtection(string service, long nowMs, UpdateTaskProtectionAction action)
    {
        Services[service].SetTaskProtection(nowMs, action);
        return Task.CompletedTask;
    }

    public Task AddTaskDefinition(IReadOnlyList<string> services, TaskDefinitionSpec taskDefinition)
    {
        foreach (var name in services)
        {
            Services[name].AddTaskDefinition(taskDefinition);
        }
        return Task.CompletedTask;
    }

    private BucketAgent Bucket(string name) => Buckets.TryGetValue(name, out var b) ? b : Buckets[name] = new BucketAgent();

    public Task<int> TryAcquire(string bucket, long nowMs, int requested, BucketLimit limit) => Task.FromResult(Bucket(bucket).TryAcquire(nowMs, requested, limit));

    public Task<int> Available(string bucket, long nowMs, BucketLimit limit) => Task.FromResult(Bucket(bucket).Available(nowMs, limit));

    public Task<IReadOnlyList<long>> Reserve(string bucket, long nowMs, int count, BucketLimit limit) => Task.FromResult(Bucket(bucket).Reserve(nowMs, count, limit));

    public Task InitPlacement(ClusterSetup setup)
    {
        Placement.Setup = setup;
        return Task.CompletedTask;
    }

    public Task<PlacementPlan> Place(long nowMs, PlacementRequest request) => Task.FromResult(Placement.Place(nowMs, request));

    /// <summary>The events as events.jsonl text.</summary>
    public string Log()
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        foreach (var e in Events)
        {
            EventJson.WriteLine(e, writer);
        }
        return System.Text.Encoding.UTF8.GetString(writer.WrittenSpan);
    }
}
