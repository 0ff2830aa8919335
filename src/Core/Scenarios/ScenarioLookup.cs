namespace Scheduler.Core.Scenarios;

/// <summary>Resolving the names a scenario uses.</summary>
public static class ScenarioLookup
{
    /// <summary>The task definition a reference names: <c>family</c> (its latest revision) or <c>family:revision</c>.</summary>
    public static TaskDefinitionSpec? FindTaskDefinition(this ClusterSpec cluster, string reference)
    {
        var colon = reference.IndexOf(':');
        if (colon < 0)
        {
            return cluster.TaskDefinitions.Where(t => t.Family == reference).MaxBy(t => t.Revision);
        }
        var family = reference[..colon];
        return int.TryParse(reference.AsSpan(colon + 1), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var revision)
            ? cluster.TaskDefinitions.FirstOrDefault(t => t.Family == family && t.Revision == revision)
            : null;
    }

    public static CapacityProviderSpec? FindCapacityProvider(this ClusterSpec cluster, string name) =>
        cluster.CapacityProviders.FirstOrDefault(c => c.Name == name);

    public static ServiceSpec? FindService(this ClusterSpec cluster, string name) =>
        cluster.Services.FirstOrDefault(s => s.Name == name);

    public static ClusterSpec? FindCluster(this Scenario scenario, string account, string cluster) =>
        scenario.Accounts.FirstOrDefault(a => a.Id == account)?.Clusters.FirstOrDefault(c => c.Name == cluster);
}
