namespace Scheduler.Core.Runtime;

/// <summary>One container the host's OOM killer may pick.</summary>
/// <param name="Essential">Its death stops the task, which gives back the task's other containers' memory too.</param>
/// <param name="OomScoreAdj">The task's priority, -1000 (never kill, like system processes) .. 1000 (kill first).</param>
public sealed record OomCandidate(string TaskId, string Container, double UseMiB, bool Essential, int OomScoreAdj, long RunningForMs);

/// <summary>
/// The host's OOM killer (seed nodejs-heap-oom-killer): when the containers' real use exceeds
/// what the host has after its OS/agent reservation, it kills the container with the highest badness, and
/// repeats until memory is back.
/// <para>Badness = 1000 × (the container's share of the host's memory) + oom_score_adj − a long-running bonus
/// (up to <see cref="LongRunningBonus"/> points, linear over the first <see cref="LongRunningMs"/> of run time):
/// the largest consumer goes first, a priority moves a task up or down, and of two equal consumers the younger
/// dies (the seed: long-running processes tend to be kept). oom_score_adj −1000 is never chosen. Ties go to the
/// task id and container name in ordinal order, so the choice never depends on arrival order.</para>
/// </summary>
public static class OomKiller
{
    public const double LongRunningBonus = 100;
    public const long LongRunningMs = 24 * 3_600_000L;
    public const int NeverKill = -1000;

    public static double Badness(OomCandidate c, double usableMiB) =>
        1000 * c.UseMiB / Math.Max(1, usableMiB) + c.OomScoreAdj - LongRunningBonus * Math.Min(1.0, (double)Math.Max(0, c.RunningForMs) / LongRunningMs);

    /// <summary>The victims in kill order; empty when <paramref name="totalUseMiB"/> fits in <paramref name="usableMiB"/>.
    /// Stops when memory is back or nothing killable is left.</summary>
    public static List<OomCandidate> ChooseVictims(IReadOnlyList<OomCandidate> candidates, double totalUseMiB, double usableMiB)
    {
        var victims = new List<OomCandidate>();
        var alive = candidates.ToList();
        var use = totalUseMiB;
        while (use > usableMiB && alive.Any(c => c.OomScoreAdj > NeverKill))
        {
            var victim = alive.Where(c => c.OomScoreAdj > NeverKill)
                .OrderByDescending(c => Badness(c, usableMiB))
                .ThenBy(c => c.TaskId, StringComparer.Ordinal)
                .ThenBy(c => c.Container, StringComparer.Ordinal)
                .First();
            victims.Add(victim);
            // An essential container's death takes its task's other containers with it.
            var gone = alive.Where(c => c.TaskId == victim.TaskId && (victim.Essential || c.Container == victim.Container)).ToList();
            use -= gone.Sum(c => c.UseMiB);
            alive.RemoveAll(gone.Contains);
        }
        return victims;
    }
}
