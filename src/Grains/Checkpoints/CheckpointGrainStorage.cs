using Orleans.Serialization;
using Orleans.Storage;

namespace Scheduler.Grains.Checkpoints;

/// <summary>One stored copy of a grain's state, stamped with the checkpoint that wrote it.</summary>
[GenerateSerializer, Alias("ckpt-record")]
public sealed class CheckpointRecord
{
    [Id(0)] public long Generation { get; set; } = -1;
    /// <summary>The state, serialized by the Orleans serializer (the same codecs as on the wire).</summary>
    [Id(1)] public byte[] Data { get; set; } = [];
}

/// <summary>
/// The grain storage of a run's grains, over a real provider (Redis, Azure Table, memory). Each grain state is kept
/// in two records ("a" and "b"), each stamped with the checkpoint that wrote it. A write of checkpoint N never
/// touches the record that holds the grain's state as of the last committed checkpoint, so a silo that dies in the
/// middle of a checkpoint leaves every grain with a complete copy of the committed one; a read picks the newest copy
/// not newer than the committed checkpoint (<see cref="CheckpointContext"/>). A grain that was not written at a
/// checkpoint had not changed since its previous write, so the newest older copy is its state at that checkpoint.
/// </summary>
/// <remarks>
/// With <paramref name="slots"/> = false it keeps one record and no generations: the store of the simulation grain,
/// whose own write is what commits a checkpoint.
/// </remarks>
public sealed class CheckpointGrainStorage(IGrainStorage inner, Serializer serializer, SiloCounters counters, bool slots = true) : IGrainStorage
{
    private static readonly string[] SlotNames = ["a", "b"];

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (!slots)
        {
            var single = new GrainState<CheckpointRecord>(new CheckpointRecord());
            await inner.ReadStateAsync(stateName, grainId, single);
            var found = single.RecordExists && single.State is not null;
            Set(grainState, found ? single.State : null, new Etags([(found ? 0 : -1, single.ETag), (-1, null)]));
            return;
        }
        var records = await Task.WhenAll(SlotNames.Select(async n =>
        {
            var record = new GrainState<CheckpointRecord>(new CheckpointRecord());
            await inner.ReadStateAsync($"{stateName}.{n}", grainId, record);
            return record;
        }));
        var etags = new Etags(records.Select(r => (r.RecordExists && r.State is not null ? r.State.Generation : -1, r.ETag)).ToArray());
        var valid = etags.Valid(CheckpointContext.Committed, CheckpointContext.Aborted);
        Set(grainState, valid < 0 ? null : records[valid].State, etags);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var etags = Etags.Parse(grainState.ETag);
        var data = serializer.SerializeToArray(grainState.State);
        if (!slots)
        {
            var single = new GrainState<CheckpointRecord>(new CheckpointRecord { Generation = 0, Data = data }, etags.Slots[0].ETag) { RecordExists = etags.Slots[0].ETag is not null };
            await inner.WriteStateAsync(stateName, grainId, single);
            grainState.ETag = new Etags([(0, single.ETag), (-1, null)]).ToString();
            grainState.RecordExists = true;
            return;
        }
        var (target, generation) = etags.Target(CheckpointContext.Writing, CheckpointContext.Committed, CheckpointContext.Aborted);
        var record = new GrainState<CheckpointRecord>(new CheckpointRecord { Generation = generation, Data = data }, etags.Slots[target].ETag)
        {
            RecordExists = etags.Slots[target].ETag is not null,
        };
        await inner.WriteStateAsync($"{stateName}.{SlotNames[target]}", grainId, record);
        etags.Slots[target] = (generation, record.ETag);
        grainState.ETag = etags.ToString();
        grainState.RecordExists = true;
        counters.CheckpointWrite(started);
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var etags = Etags.Parse(grainState.ETag);
        var names = slots ? SlotNames.Select(n => $"{stateName}.{n}").ToArray() : [stateName];
        for (var i = 0; i < names.Length; i++)
        {
            if (etags.Slots[i].ETag is not null)
            {
                await inner.ClearStateAsync(names[i], grainId, new GrainState<CheckpointRecord>(new CheckpointRecord(), etags.Slots[i].ETag) { RecordExists = true });
            }
        }
        grainState.ETag = null;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    private void Set<T>(IGrainState<T> grainState, CheckpointRecord? record, Etags etags)
    {
        grainState.State = record is null ? Activator.CreateInstance<T>() : serializer.Deserialize<T>(record.Data);
        grainState.RecordExists = record is not null;
        grainState.ETag = etags.ToString();
    }

    /// <summary>
    /// Both records' checkpoint and store etag, kept in the grain state's etag between calls (so a write needs no
    /// read first), as "generation:etag|generation:etag".
    /// </summary>
    internal sealed class Etags((long Generation, string? ETag)[] slots)
    {
        public (long Generation, string? ETag)[] Slots { get; } = slots;

        /// <summary>
        /// The record holding the state as of <paramref name="committed"/> (the newest when unknown): the newest copy of
        /// a checkpoint at or before it that was not <paramref name="aborted"/>; -1 for none.
        /// </summary>
        public int Valid(long? committed, IReadOnlyList<long> aborted)
        {
            var best = -1;
            for (var i = 0; i < Slots.Length; i++)
            {
                var g = Slots[i].Generation;
                if (g >= 0 && (committed is null || g <= committed) && !aborted.Contains(g) && (best < 0 || g > Slots[best].Generation))
                {
                    best = i;
                }
            }
            return best;
        }

        /// <summary>
        /// Where checkpoint <paramref name="writing"/> goes: the record it already wrote (a grain written twice in one
        /// checkpoint), else the one not holding the committed state. Outside a checkpoint (a grain called on its
        /// own, as in a grain test), the newest record is overwritten with its own stamp.
        /// </summary>
        public (int Slot, long Generation) Target(long? writing, long? committed, IReadOnlyList<long> aborted)
        {
            if (writing is not { } n)
            {
                var newest = Valid(null, aborted);
                return newest < 0 ? (0, 0) : (newest, Slots[newest].Generation);
            }
            for (var i = 0; i < Slots.Length; i++)
            {
                if (Slots[i].Generation == n)
                {
                    return (i, n);
                }
            }
            var keep = Valid(committed ?? n - 1, aborted);
            return (keep == 0 ? 1 : 0, n);
        }

        public override string ToString() => string.Join("|", Slots.Select(s => $"{s.Generation}:{s.ETag}"));

        public static Etags Parse(string? text)
        {
            var slots = new (long, string?)[] { (-1, null), (-1, null) };
            if (!string.IsNullOrEmpty(text))
            {
                var parts = text.Split('|');
                for (var i = 0; i < Math.Min(parts.Length, slots.Length); i++)
                {
                    var colon = parts[i].IndexOf(':');
                    var etag = parts[i][(colon + 1)..];
                    slots[i] = (long.Parse(parts[i][..colon], System.Globalization.CultureInfo.InvariantCulture), etag.Length == 0 ? null : etag);
                }
            }
            return new Etags(slots);
        }
    }
}
