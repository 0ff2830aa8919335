using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Reporting;

namespace Scheduler.Core.Tests.Reporting;

public class ThresholdTests
{
    private static RunSummary Summary()
    {
        var b = new SummaryBuilder(InstanceTypeCatalog.Default);
        b.Observe(new SimEvent { TimeMs = 0, Kind = EventKinds.Task, Account = "a", Cluster = "c", Task = "t-1", State = TaskStates.Provisioning });
        b.Observe(new SimEvent { TimeMs = 400_000, Kind = EventKinds.Task, Account = "a", Cluster = "c", Task = "t-1", State = TaskStates.Running });
        b.Observe(new SimEvent { TimeMs = 400_000, Kind = EventKinds.Throttle, Account = "a", Cluster = "c", Bucket = "runTask", Requested = 1, Tasks = 7 });
        b.Observe(new SimEvent { TimeMs = 400_000, Kind = EventKinds.Throttle, Account = "a", Cluster = "c", Bucket = "fargateOnDemand", Requested = 30, Granted = 10 });
        return b.Build("x", 1, 500_000, 1, 1);
    }

    private static Threshold Parse(string text)
    {
        Assert.True(Thresholds.TryParse(text, out var t, out var error), error);
        return t!;
    }

    [Theory]
    [InlineData("timeToRunning.p99>300s", true)]   // 400 s
    [InlineData("timeToRunning.p99>7m", false)]
    [InlineData("timeToRunning.p99 >= 400", true)]
    [InlineData("unplaceable>0", false)]
    [InlineData("throttles.runTask>=1", true)]
    [InlineData("throttles>=2", true)]             // a group alone is its total
    [InlineData("throttles.fargateSpot>0", false)] // never produced: 0
    [InlineData("throttledTasks.runTask==7", true)]
    [InlineData("runTaskTasksRefused!=7", false)]
    [InlineData("maxInstanceAgeDays>=30d", false)]
    [InlineData("minHealthyPercentDuringDrains<100%", false)]
    [InlineData("cost>$0", false)]
    public void A_threshold_fails_exactly_when_its_condition_holds(string text, bool fails)
    {
        var t = Parse(text);
        var result = Thresholds.Evaluate([t], Summary()).Single();
        Assert.Equal(fails, result.Failed);
    }

    [Fact]
    public void Units_convert_to_the_keys_unit()
    {
        Assert.Equal(7200, Parse("timeToRunning.max>2h").Value);
        Assert.Equal(14, Parse("maxInstanceAgeDays>14d").Value);
        Assert.Equal(0.5, Parse("maxInstanceAgeDays>12h").Value);
        Assert.Equal(95, Parse("reservedUtilisation.cpuPercent<95%").Value);
    }

    [Theory]
    [InlineData("p99>300s", "unknown key 'p99'")]
    [InlineData("throttles.runTsk>1", "throttles has")]
    [InlineData("timeToRunning.p99>fast", "not a duration")]
    [InlineData("unplaceable>5s", "not a count")]
    [InlineData("unplaceable", "not a threshold")]
    [InlineData("unplaceable=>1", "not a threshold")]
    public void Malformed_or_unknown_thresholds_are_rejected_with_the_reason(string text, string reason)
    {
        Assert.False(Thresholds.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
    }
}
