using System.Diagnostics;
using Orleans.Providers;

namespace Scheduler.Grains.Checkpoints;

/// <summary>What one silo counted since it started: grain calls that came from another silo, and checkpoint writes.</summary>
[GenerateSerializer, Immutable, Alias("silo-counters")]
public sealed record SiloCounterSnapshot(
    [property: Id(0)] long CrossSiloCalls,
    [property: Id(1)] long CheckpointWrites,
    [property: Id(2)] double CheckpointWriteSeconds);

/// <summary>
/// A silo's own counters, read by a client through the management grain's control command
/// (<c>SendControlCommandToProvider&lt;SiloCounters&gt;(<see cref="Name"/>, ...)</c>), one answer per silo.
/// </summary>
public sealed class SiloCounters : IControllable
{
    public const string Name = "scheduler-counters";

    private long _crossSiloCalls;
    private long _writes;
    private long _writeTicks;

    public void CrossSiloCall() => Interlocked.Increment(ref _crossSiloCalls);

    public void CheckpointWrite(long startTimestamp)
    {
        Interlocked.Increment(ref _writes);
        Interlocked.Add(ref _writeTicks, Stopwatch.GetTimestamp() - startTimestamp);
    }

    public SiloCounterSnapshot Snapshot() => new(
        Interlocked.Read(ref _crossSiloCalls), Interlocked.Read(ref _writes), (double)Interlocked.Read(ref _writeTicks) / Stopwatch.Frequency);

    public Task<object?> ExecuteCommand(int command, object? arg) => Task.FromResult<object?>(Snapshot());
}

/// <summary>
/// Counts grain calls that cross from one silo to another: the caller's silo stamps its address on each call it
/// sends, and the target's silo compares it with its own. Calls from a client carry no stamp and are not counted.
/// </summary>
public sealed class CrossSiloCallFilter(ILocalSiloDetails silo, SiloCounters counters) : IOutgoingGrainCallFilter, IIncomingGrainCallFilter
{
    private const string OriginKey = "sched-origin";
    private readonly string _self = silo.SiloAddress.ToParsableString();

    public Task Invoke(IOutgoingGrainCallContext context)
    {
        RequestContext.Set(OriginKey, _self);
        return context.Invoke();
    }

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (RequestContext.Get(OriginKey) is string origin && origin != _self)
        {
            counters.CrossSiloCall();
        }
        return context.Invoke();
    }
}

/// <summary>
/// Lets the management grain's generic control command name <see cref="SiloCounters"/> as its type argument: the
/// allowed assemblies cover the type itself, not a generated invoker type closed over it.
/// </summary>
public sealed class SiloCountersTypeFilter : Orleans.Serialization.ITypeFilter
{
    public bool? IsTypeAllowed(Type type) =>
        type.IsConstructedGenericType && type.GetGenericArguments().Contains(typeof(SiloCounters)) ? true : null;
}
