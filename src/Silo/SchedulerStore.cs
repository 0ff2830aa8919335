namespace Scheduler.Silo;

/// <summary>Where a cluster of silos keeps its membership, grain state and reminders.</summary>
public enum StoreKind
{
    /// <summary>In the silo's memory: a single-silo development cluster (and the embedded default).</summary>
    Memory,
    /// <summary>A Redis server (StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c>).</summary>
    Redis,
    /// <summary>Azure Table storage (a storage connection string, e.g. <c>UseDevelopmentStorage=true</c> for Azurite).</summary>
    AzureTable,
}

/// <summary>A store and how to reach it, as the silo host's <c>--store</c>/<c>--connection</c> and the client's <c>--connect STORE=CONNECTION</c> name them.</summary>
public sealed record SchedulerStore(StoreKind Kind, string Connection)
{
    public static readonly SchedulerStore InMemory = new(StoreKind.Memory, "");

    /// <summary>The names users write: <c>memory</c>, <c>redis</c>, <c>azuretable</c>.</summary>
    public static readonly IReadOnlyDictionary<string, StoreKind> Names = new Dictionary<string, StoreKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["memory"] = StoreKind.Memory,
        ["redis"] = StoreKind.Redis,
        ["azuretable"] = StoreKind.AzureTable,
    };

    public static bool TryParseKind(string? text, out StoreKind kind)
    {
        kind = StoreKind.Memory;
        return text is not null && Names.TryGetValue(text.Trim(), out kind);
    }

    /// <summary>Why a store and connection cannot be used, or null.</summary>
    public static string? Problem(StoreKind kind, string? connection) =>
        kind != StoreKind.Memory && string.IsNullOrWhiteSpace(connection)
            ? $"the {Name(kind)} store needs a connection string"
            : null;

    public static string Name(StoreKind kind) => Names.First(kv => kv.Value == kind).Key;

    public override string ToString() => Kind == StoreKind.Memory ? "memory" : $"{Name(Kind)} ({Connection})";
}
