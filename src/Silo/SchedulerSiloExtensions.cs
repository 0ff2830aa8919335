using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Serialization.Configuration;

namespace Scheduler.Silo;

public static class SchedulerSiloExtensions
{
    /// <summary>The grain storage every scheduler grain persists to.</summary>
    public const string StorageName = "sim";

    /// <summary>
    /// What every silo of the scheduler needs whatever its clustering: the grain storage, and the JSON codec
    /// for the pure model's types (Core has no Orleans reference, so its records travel as JSON).
    /// </summary>
    public static ISiloBuilder AddSchedulerGrains(this ISiloBuilder silo, bool inMemoryStorage = true)
    {
        if (inMemoryStorage)
        {
            silo.AddMemoryGrainStorage(StorageName);
        }
        silo.Services.AddSerializer(s => s.AddJsonSerializer(isSupported: IsModelType));
        silo.Services.Configure<TypeManifestOptions>(o =>
        {
            o.AddAllowedAssembly(typeof(Scheduler.Core.Scenarios.Scenario).Assembly);
            o.AddAllowedAssembly(typeof(Scheduler.Grains.ClusterGrain).Assembly);
        });
        silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromHours(2));
        return silo;
    }

    /// <summary>Types serialized as JSON: the pure model (Scheduler.Core) and the grains' persisted state.</summary>
    public static bool IsModelType(Type type) =>
        type.Namespace is { } ns && (ns.StartsWith("Scheduler.Core", StringComparison.Ordinal) || ns == "Scheduler.Grains");
}
