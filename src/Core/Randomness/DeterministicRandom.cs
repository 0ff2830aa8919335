namespace Scheduler.Core.Randomness;

/// <summary>
/// Counter-based randomness: every draw is a pure function of (run seed, entity id, stream, counter),
/// so an entity that moves to another silo or re-activates draws the same numbers, and no draw depends
/// on the order in which messages arrived.
/// </summary>
public static class DeterministicRandom
{
    /// <summary>A uniformly distributed 64-bit value.</summary>
    public static ulong NextUInt64(long seed, string entity, string stream, long counter)
    {
        var h = Mix((ulong)seed ^ 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ Fnv1a(entity));
        h = Mix(h ^ Fnv1a(stream));
        return Mix(h ^ (ulong)counter);
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public static double NextDouble(long seed, string entity, string stream, long counter) =>
        (NextUInt64(seed, entity, stream, counter) >> 11) * (1.0 / (1UL << 53));

    /// <summary>A standard normal draw (Box-Muller over two counter-derived uniforms).</summary>
    public static double NextNormal(long seed, string entity, string stream, long counter)
    {
        // The two uniform draws share (seed, entity, stream): hashed once, the same bits as two NextDouble calls.
        var h = Mix((ulong)seed ^ 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ Fnv1a(entity));
        h = Mix(h ^ Fnv1a(stream));
        var u1 = 1.0 - (Mix(h ^ (ulong)(2 * counter)) >> 11) * (1.0 / (1UL << 53));
        var u2 = (Mix(h ^ (ulong)(2 * counter + 1)) >> 11) * (1.0 / (1UL << 53));
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    // SplitMix64 finaliser: a bijective avalanche of 64 bits.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    // FNV-1a over UTF-16 code units: stable across processes, unlike string.GetHashCode.
    private static ulong Fnv1a(string s)
    {
        var h = 14695981039346656037UL;
        foreach (var c in s)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return h;
    }
}
