using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Configuration;

namespace Scheduler.Abstractions;

public static class SchedulerSerialization
{
    /// <summary>
    /// The pure model (Scheduler.Core) has no Orleans reference, so its records travel as JSON; silos and
    /// external clients both need this. Grain state types of Scheduler.Grains are included (silos only use them).
    /// </summary>
    public static IServiceCollection AddSchedulerSerialization(this IServiceCollection services)
    {
        services.AddSerializer(s => s.AddJsonSerializer(isSupported: IsModelType));
        services.Configure<TypeManifestOptions>(o => o.AddAllowedAssembly(typeof(Core.Scenarios.Scenario).Assembly));
        return services;
    }

    public static bool IsModelType(Type type) =>
        type.Namespace is { } ns && (ns.StartsWith("Scheduler.Core", StringComparison.Ordinal) || ns == "Scheduler.Grains");
}
