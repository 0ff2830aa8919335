using CsCheck;
using Scheduler.Core.Lifecycle;
using Scheduler.Core.Placement;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Deploy;

/// <summary>Consolidation (Managed Instances infrastructure optimization): which underused hosts may be drained now.</summary>
public sealed class ConsolidationTests
{
    private const long Hour = 3_600_000;
    private static readonly Resources Size = new(8192, 32768, 0);
    private static readonly InfrastructureOptimizationSpec Spec = new() { ScaleInAfter = TimeSpan.FromHours(1), UtilizationThreshold = 20, MaxConcurrent = 2 };

    private static HostUse Host(string id, string zone, int usedCpu, long launched = 0, long underusedSince = 0, bool pinned = false) =>
        new(id, zone, true, launched, Size, Size - new Resources(usedCpu, usedCpu * 4L, 0), underusedSince, pinned);

    [Fact]
    public void An_underused_host_drains_when_its_tasks_fit_on_another_host_of_its_zone()
    {
        IReadOnlyList<HostUse> hosts = [Host("i-1", "a", 1024), Host("i-2", "a", 4096, underusedSince: long.MaxValue), Host("i-3", "b", 512)];
        // i-3 is alone in zone b: consolidating it would need a new host there.
        Assert.Equal(["i-1"], Consolidation.Pick(hosts, 2 * Hour, Spec, alreadyDraining: 0, tasksWaiting: false));
        Assert.Empty(Consolidation.Pick(hosts, 2 * Hour, Spec, alreadyDraining: 0, tasksWaiting: true));
        Assert.Empty(Consolidation.Pick(hosts, 2 * Hour, Spec with { Enabled = false }, alreadyDraining: 0, tasksWaiting: false));
        Assert.Empty(Consolidation.Pick(hosts, 2 * Hour, Spec, alreadyDraining: 2, tasksWaiting: false));
    }

    [Fact]
    public void Underused_since_starts_below_the_threshold_and_clears_above_it()
    {
        Assert.Equal(5, Consolidation.UnderusedSince(long.MaxValue, active: true, 10, 20, 5));
        Assert.Equal(5, Consolidation.UnderusedSince(5, active: true, 19.9, 20, 9));
        Assert.Equal(long.MaxValue, Consolidation.UnderusedSince(5, active: true, 20, 20, 9));
        Assert.Equal(long.MaxValue, Consolidation.UnderusedSince(5, active: false, 0, 20, 9));
        Assert.Equal(50.0, Consolidation.ReservedPercent(new Resources(1000, 1000, 0), new Resources(900, 500, 0)));
    }

    /// <summary>Over random fleets: every pick is due (underused long enough, not young, not pinned), within the budget, and its
    /// reservations fit in the room its zone keeps after every pick, so no new capacity is needed.</summary>
    [Fact]
    public void Picks_are_due_bounded_and_fit_in_their_zone()
    {
        var genHost = from zone in Gen.Int[0, 2]
                      from used in Gen.Int[0, 8192]
                      from launched in Gen.Long[0, 4 * Hour]
                      from underused in Gen.Long[0, 4 * Hour]
                      from never in Gen.Bool
                      from pinned in Gen.Int[0, 5]
                      from active in Gen.Int[0, 6]
                      select (zone, used, launched, underused: never ? long.MaxValue : underused, pinned: pinned == 0, active: active > 0);
        var gen = from hosts in genHost.Array[0, 20]
                  from now in Gen.Long[0, 5 * Hour]
                  from maxConcurrent in Gen.Int[1, 4]
                  from draining in Gen.Int[0, 3]
                  select (hosts, now, maxConcurrent, draining);
        gen.Sample(x =>
        {
            var uses = x.hosts.Select((h, i) => new HostUse($"i-{i:D2}", "abc"[h.zone].ToString(), h.active, h.launched, Size,
                Size - new Resources(h.used, h.used * 4L, 0), h.underused, h.pinned)).ToList();
            var spec = Spec with { MaxConcurrent = x.maxConcurrent };
            var picked = Consolidation.Pick(uses, x.now, spec, x.draining, tasksWaiting: false);
            Assert.True(picked.Count <= Math.Max(0, x.maxConcurrent - x.draining));
            var byId = uses.ToDictionary(u => u.Id);
            foreach (var id in picked)
            {
                var h = byId[id];
                Assert.True(h.Active && !h.Pinned);
                Assert.True(h.ActiveSinceMs + Hour <= x.now, "a young host was consolidated");
                Assert.True(h.UnderusedSinceMs + Hour <= x.now, "a host not underused long enough was consolidated");
            }
            foreach (var zone in picked.Select(id => byId[id].Zone).Distinct())
            {
                var leaving = picked.Where(id => byId[id].Zone == zone).Select(id => byId[id]).ToList();
                var need = leaving.Aggregate(default(Resources), (a, h) => a + h.Reserved);
                var room = uses.Where(u => u.Active && u.Zone == zone && !picked.Contains(u.Id)).Aggregate(default(Resources), (a, h) => a + h.Free);
                Assert.True(room.Fits(need), $"zone {zone}: {need} does not fit in {room}");
            }
        }, iter: 5_000);
    }
}
