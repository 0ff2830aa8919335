namespace Scheduler.Core.Placement;

/// <summary>
/// The zone counts placement spreads by. A task that is being replaced (its host drains, rebalancing moves it, a newer
/// deployment replaces it) still holds its place until it stops, but it does not count towards its zone: its
/// replacement must land where the spread holds after it is gone, not where it held with it.
/// </summary>
public static class ZoneSpread
{
    /// <summary>
    /// Each group's tasks per zone (in <paramref name="zones"/> order) less its doomed tasks there, never below zero.
    /// Copies: the counts given are not changed.
    /// </summary>
    public static Dictionary<string, int[]> WithoutDoomed(IReadOnlyDictionary<string, int[]> counts,
        IReadOnlyDictionary<string, SortedDictionary<string, int>> doomed, IReadOnlyList<string> zones)
    {
        var result = new Dictionary<string, int[]>(counts.Count, StringComparer.Ordinal);
        foreach (var (group, perZone) in counts)
        {
            var copy = (int[])perZone.Clone();
            if (doomed.TryGetValue(group, out var going))
            {
                for (var z = 0; z < copy.Length && z < zones.Count; z++)
                {
                    copy[z] = Math.Max(0, copy[z] - going.GetValueOrDefault(zones[z]));
                }
            }
            result[group] = copy;
        }
        return result;
    }

    /// <summary>The doomed tasks of <paramref name="group"/> in <paramref name="zone"/>.</summary>
    public static int Doomed(IReadOnlyDictionary<string, SortedDictionary<string, int>> doomed, string group, string zone) =>
        doomed.TryGetValue(group, out var going) ? going.GetValueOrDefault(zone) : 0;
}
