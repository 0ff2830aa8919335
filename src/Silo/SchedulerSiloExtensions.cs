using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Scheduler.Abstractions;
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
        silo.Services.AddSchedulerSerialization();
        silo.Services.Configure<TypeManifestOptions>(o => o.AddAllowedAssembly(typeof(Scheduler.Grains.ClusterGrain).Assembly));
        silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromHours(2));
        return silo;
    }
}
