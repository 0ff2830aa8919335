using Scheduler.Core.Catalog;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Reporting;

/// <summary>
/// What the reports need to know about a run's fleet beyond its events: the shape of every host type the run
/// can register (the catalog's, plus the on-premises shapes of EXTERNAL providers, trace nodes included) and
/// the capacity type behind each capacity provider name.
/// </summary>
public sealed class RunFleet
{
    private readonly InstanceTypeCatalog _catalog;
    private readonly Dictionary<string, InstanceType> _external = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Account, string Cluster, string Provider), CapacityType> _providers = [];

    public RunFleet(InstanceTypeCatalog catalog, Scenario? scenario = null)
    {
        _catalog = catalog;
        foreach (var account in scenario?.Accounts ?? [])
        {
            foreach (var cluster in account.Clusters)
            {
                foreach (var cp in cluster.CapacityProviders)
                {
                    _providers[(account.Id, cluster.Name, cp.Name)] = cp.Type;
                    foreach (var spec in cp.Instances)
                    {
                        var type = spec.ToInstanceType();
                        _external.TryAdd(type.Name, type);
                    }
                }
            }
        }
    }

    public InstanceType? Find(string? typeName) =>
        typeName is null ? null : _catalog.Find(typeName) ?? _external.GetValueOrDefault(typeName);

    /// <summary>The capacity type of a provider; null when the run's scenario is not known or does not name it.</summary>
    public CapacityType? TypeOf(string account, string cluster, string? provider) =>
        provider is not null && _providers.TryGetValue((account, cluster, provider), out var type) ? type : null;

    /// <summary>How capacity types are written in reports and metrics.csv (as ECS spells them).</summary>
    public static string Name(CapacityType type) => type switch
    {
        CapacityType.Fargate => "FARGATE",
        CapacityType.FargateSpot => "FARGATE_SPOT",
        CapacityType.Ec2 => "EC2",
        CapacityType.ManagedInstances => "MANAGED_INSTANCES",
        _ => "EXTERNAL",
    };

    public static readonly CapacityType[] AllTypes =
        [CapacityType.Fargate, CapacityType.FargateSpot, CapacityType.Ec2, CapacityType.ManagedInstances, CapacityType.External];
}

/// <summary>
/// Fargate's price: per vCPU-hour and per GB-hour of the task size, billed from the moment the task starts
/// pulling its image (it leaves PROVISIONING) until it stops. Defaults are AWS's published Linux/x86 prices in
/// us-east-1; Spot is the typical discount of about 70 %.
/// </summary>
public sealed record FargatePricing(decimal VcpuHour, decimal GbHour, decimal SpotVcpuHour, decimal SpotGbHour)
{
    public static readonly FargatePricing Default = new(0.04048m, 0.004445m, 0.01214m, 0.001334m);
}
