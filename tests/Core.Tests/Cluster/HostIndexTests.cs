using CsCheck;
using Scheduler.Core.Cluster;
using Scheduler.Core.Engine;
using Scheduler.Core.Lifecycle;

namespace Scheduler.Core.Tests.Cluster;

/// <summary>
/// The cluster's host index answers the tick's questions from updates one host at a time; after any sequence of
/// reports it must give the same answers as scanning every host's last report.
/// </summary>
public class HostIndexTests
{
    private static readonly string[] Statuses = [InstanceStates.Launching, InstanceStates.Active, InstanceStates.Draining, InstanceStates.Terminated];
    private static readonly string?[] Reasons = [null, DrainReasons.PatchDay14, DrainReasons.Consolidation];
    private static readonly string[] Providers = ["mi", "mi-b"];

    /// <summary>One report: host number, provider, status, launch time, wants a patch drain, drain reason, due time, underused.</summary>
    private static readonly Gen<(int Host, int Provider, int Status, int Launched, bool Wants, int Reason, int Due, bool Underused)> Report =
        Gen.Select(Gen.Int[0, 11], Gen.Int[0, 1], Gen.Int[0, 3], Gen.Int[0, 5], Gen.Bool, Gen.Int[0, 2], Gen.Int[0, 20], Gen.Bool)
            .Select((h, p, s, l, w, r, d, u) => (h, p, s, l, w, r, d, u));

    [Fact]
    public void Answers_like_a_scan_of_every_hosts_last_report()
    {
        Gen.Select(Report.List[0, 60], Gen.Int[0, 20]).Sample((reports, now) =>
        {
            var index = new HostIndex();
            var last = new Dictionary<string, (HostFacts Facts, long Due, bool Underused)>(StringComparer.Ordinal);
            foreach (var r in reports)
            {
                var id = $"i-{r.Host:D5}";
                // A host keeps its provider and launch time; only what a report can change varies.
                var provider = last.TryGetValue(id, out var was) ? was.Facts.CapacityProvider : Providers[r.Provider];
                var launched = was.Facts.CapacityProvider is null ? r.Launched * 1000L : was.Facts.LaunchedAtMs;
                var facts = new HostFacts(provider, Statuses[r.Status], launched, r.Wants ? DrainReasons.PatchDay14 : null, Reasons[r.Reason]);
                index.Set(id, facts);
                index.SetDue(id, r.Due == 20 ? long.MaxValue : r.Due);
                index.SetUnderused(id, r.Underused);
                last[id] = (facts, r.Due == 20 ? long.MaxValue : r.Due, r.Underused);
            }

            var hosts = last.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
            Assert.Equal(hosts.Where(kv => kv.Value.Due <= now).Select(kv => kv.Key), index.DueAt(now));
            Assert.Equal(hosts.Select(kv => kv.Value.Due).DefaultIfEmpty(long.MaxValue).Min(), index.NextDueMs);
            Assert.Equal(hosts.Where(kv => kv.Value.Facts.Status == InstanceStates.Draining).Select(kv => kv.Key), index.Draining);
            Assert.Equal(hosts.Where(kv => kv.Value.Underused).Select(kv => kv.Key), index.Underused);
            foreach (var provider in Providers)
            {
                var wanting = hosts.Where(kv => kv.Value.Facts.CapacityProvider == provider && kv.Value.Facts.WantsDrain is not null
                        && kv.Value.Facts.Status != InstanceStates.Draining && kv.Value.Facts.Status != InstanceStates.Terminated)
                    .OrderBy(kv => kv.Value.Facts.LaunchedAtMs).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).ToList();
                Assert.Equal(wanting, index.WantingPatchGrant(provider));
                Assert.Equal(wanting.Count > 0, index.AnyWantingPatchGrant(provider));
                foreach (var reason in new[] { DrainReasons.PatchDay14, DrainReasons.Consolidation })
                {
                    Assert.Equal(hosts.Count(kv => kv.Value.Facts.CapacityProvider == provider && kv.Value.Facts.Status == InstanceStates.Draining
                        && kv.Value.Facts.DrainReason == reason), index.DrainingFor(provider, reason));
                }
            }
        });
    }
}
