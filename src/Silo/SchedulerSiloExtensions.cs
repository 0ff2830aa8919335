using Azure.Data.Tables;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Providers;
using Orleans.Serialization;
using Orleans.Serialization.Configuration;
using Orleans.Storage;
using Scheduler.Abstractions;
using Scheduler.Grains.Checkpoints;
using StackExchange.Redis;

namespace Scheduler.Silo;

public static class SchedulerSiloExtensions
{
    /// <summary>The grain storage every scheduler grain persists to.</summary>
    public const string StorageName = CheckpointStores.Grains;

    /// <summary>The configured store's own grain storage, which the checkpoint storages write through.</summary>
    private const string StoreStorage = "sim-store";

    /// <summary>
    /// What every silo of the scheduler needs whatever its clustering: the grain storages over the
    /// <paramref name="store"/> (in memory when null), the checkpoint filter, and the JSON codec for the pure
    /// model's types (Core has no Orleans reference, so its records travel as JSON).
    /// </summary>
    public static ISiloBuilder AddSchedulerGrains(this ISiloBuilder silo, SchedulerStore? store = null)
    {
        store ??= SchedulerStore.InMemory;
        switch (store.Kind)
        {
            case StoreKind.Memory:
                silo.AddMemoryGrainStorage(StoreStorage);
                break;
            case StoreKind.Redis:
                silo.AddRedisGrainStorage(StoreStorage, o => o.ConfigurationOptions = RedisOptions(store.Connection));
                break;
            case StoreKind.AzureTable:
                silo.AddAzureTableGrainStorage(StoreStorage, o => o.TableServiceClient = new TableServiceClient(store.Connection));
                break;
        }
        silo.Services.AddSingleton<SiloCounters>();
        silo.Services.AddSingleton<Orleans.Serialization.ITypeFilter, SiloCountersTypeFilter>();
        silo.Services.AddKeyedSingleton<IControllable>(SiloCounters.Name, (sp, _) => sp.GetRequiredService<SiloCounters>());
        silo.Services.AddKeyedSingleton<IGrainStorage>(CheckpointStores.Grains, (sp, _) =>
            new CheckpointGrainStorage(sp.GetRequiredKeyedService<IGrainStorage>(StoreStorage), sp.GetRequiredService<Serializer>(), sp.GetRequiredService<SiloCounters>()));
        silo.Services.AddKeyedSingleton<IGrainStorage>(CheckpointStores.Clock, (sp, _) =>
            new CheckpointGrainStorage(sp.GetRequiredKeyedService<IGrainStorage>(StoreStorage), sp.GetRequiredService<Serializer>(), sp.GetRequiredService<SiloCounters>(), slots: false));
        silo.AddIncomingGrainCallFilter<CheckpointCallFilter>();
        silo.Services.AddSingleton<CrossSiloCallFilter>();
        silo.Services.AddSingleton<IOutgoingGrainCallFilter>(sp => sp.GetRequiredService<CrossSiloCallFilter>());
        silo.Services.AddSingleton<IIncomingGrainCallFilter>(sp => sp.GetRequiredService<CrossSiloCallFilter>());
        silo.Services.AddSchedulerSerialization();
        silo.Services.Configure<TypeManifestOptions>(o => o.AddAllowedAssembly(typeof(Scheduler.Grains.ClusterGrain).Assembly));
        silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromHours(2));
        return silo;
    }

    /// <summary>
    /// Membership and reminders on a shared store (Redis or Azure Table), for a cluster of silo processes. Membership
    /// is tuned to declare a dead silo dead in a few seconds (the defaults take 11 to 18 s here): a run waits for that
    /// before it resumes from its last checkpoint.
    /// </summary>
    public static ISiloBuilder UseSchedulerClustering(this ISiloBuilder silo, SchedulerStore store)
    {
        switch (store.Kind)
        {
            case StoreKind.Redis:
                silo.UseRedisClustering(o => o.ConfigurationOptions = RedisOptions(store.Connection));
                silo.UseRedisReminderService(o => o.ConfigurationOptions = RedisOptions(store.Connection));
                break;
            case StoreKind.AzureTable:
                silo.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(store.Connection));
                silo.UseAzureTableReminderService(o => o.TableServiceClient = new TableServiceClient(store.Connection));
                break;
            default:
                throw new ArgumentException("memory clustering is the localhost development cluster", nameof(store));
        }
        silo.Configure<ClusterMembershipOptions>(TuneMembership);
        return silo;
    }

    /// <summary>A client of a cluster of silo processes on <paramref name="store"/>.</summary>
    public static IClientBuilder UseSchedulerClustering(this IClientBuilder client, SchedulerStore store)
    {
        switch (store.Kind)
        {
            case StoreKind.Redis:
                client.UseRedisClustering(o => o.ConfigurationOptions = RedisOptions(store.Connection));
                break;
            case StoreKind.AzureTable:
                client.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(store.Connection));
                break;
            default:
                throw new ArgumentException("connect to a cluster on redis or azuretable", nameof(store));
        }
        // Learn soon that a gateway is gone, so that calls go to the silos that are left.
        client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
        // A call to a grain of a silo that died fails as soon as the silo is declared dead, not at this timeout: it
        // only needs to cover a slow call (the start of a large run) on a busy machine.
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(90));
        return client.AddSchedulerClient();
    }

    /// <summary>What any client of the scheduler's silos needs: the model's JSON codec and the types of the silos' counters.</summary>
    public static IClientBuilder AddSchedulerClient(this IClientBuilder client)
    {
        client.Services.AddSchedulerSerialization();
        client.Services.Configure<TypeManifestOptions>(o => o.AddAllowedAssembly(typeof(SiloCounters).Assembly));
        client.Services.AddSingleton<Orleans.Serialization.ITypeFilter, SiloCountersTypeFilter>();
        return client;
    }

    /// <summary>Failure detection in about 2 to 3 s: probes time out after 1 s, two missed probes raise a suspicion, and the table is read every 2 s.</summary>
    public static void TuneMembership(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(1);
        o.NumMissedProbesLimit = 2;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(10);
    }

    private static ConfigurationOptions RedisOptions(string connection)
    {
        var options = ConfigurationOptions.Parse(connection);
        // Keep trying while the server starts or restarts, instead of failing the silo.
        options.AbortOnConnectFail = false;
        return options;
    }
}
