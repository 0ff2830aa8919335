using CsCheck;
using Scheduler.Core.Engine;

namespace Scheduler.Core.Tests.Deploy;

/// <summary>Task scale-in protection: protected tasks are never stopped by the service until protection ends.</summary>
public sealed class TaskProtectionTests
{
    private static readonly string[] Zones = ["a", "b", "c"];

    private static ServiceModel Running(int n, int min = 100, int max = 200)
    {
        var model = new ServiceModel
        {
            Name = "web", TaskDefinition = "web:1", DesiredCount = n, HasHealthCheck = false,
            MinimumHealthyPercent = min, MaximumPercent = max, Rebalancing = false,
        };
        for (var i = 0; i < n; i++)
        {
            model.Tasks[$"web-{i:D5}"] = new ServiceTask { State = TaskStates.Running, Zone = Zones[i % 3], Instance = $"h{i % 4}" };
        }
        model.UpdateFleet([], Zones, rebalancing: false);
        return model;
    }

    [Fact]
    public void Scale_in_skips_protected_tasks_and_wakes_when_protection_runs_out()
    {
        var model = Running(6);
        model.Protect(["web-00000", "web-00001", "web-00002", "web-00003"], enabled: true, untilMs: 7_200_000);
        model.DesiredCount = 1;
        var first = model.Reconcile(nowMs: 1_000);
        Assert.Equal(["web-00004", "web-00005"], first.Stop.Select(s => s.TaskId).Order());
        Assert.Equal(7_200_000, first.WakeAtMs);
        Assert.Equal(["h0", "h1", "h2", "h3"], model.ProtectedInstances(1_000));

        var later = model.Reconcile(nowMs: 7_200_000);
        Assert.Equal(3, later.Stop.Count);
        Assert.Equal(long.MaxValue, later.WakeAtMs);
    }

    [Fact]
    public void Protection_removed_by_the_API_frees_the_task_at_once()
    {
        var model = Running(3);
        model.Protect(null, enabled: true, untilMs: long.MaxValue);
        model.DesiredCount = 0;
        Assert.Empty(model.Reconcile(nowMs: 5).Stop);
        model.Protect(["web-00001"], enabled: false, untilMs: 0);
        Assert.Equal("web-00001", Assert.Single(model.Reconcile(nowMs: 6).Stop).TaskId);
    }

    [Fact]
    public void A_service_with_protectedFromScaleIn_starts_protected_tasks()
    {
        var model = Running(0);
        model.ProtectNewTasks = true;
        model.DesiredCount = 2;
        var started = model.Reconcile(nowMs: 0).Start;
        Assert.All(started, id => Assert.True(model.Tasks[id].IsProtected(1_000_000_000)));
    }

    /// <summary>Random protections, desired changes, deployments and drains: a protected task is never in a stop decision.</summary>
    [Fact]
    public void The_service_never_stops_a_protected_task()
    {
        var gen = from n in Gen.Int[1, 12]
                  from steps in Gen.Select(Gen.Int[0, 4], Gen.Int[0, 20], Gen.Int[0, 3]).Array[1, 30]
                  select (n, steps);
        gen.Sample(x =>
        {
            var (n, steps) = x;
            var model = Running(n, min: 50, max: 200);
            var now = 0L;
            foreach (var (op, arg, host) in steps)
            {
                now += 60_000;
                switch (op)
                {
                    case 0:
                        model.DesiredCount = arg;
                        break;
                    case 1:
                        var ids = model.Tasks.Keys.Where((_, i) => i % 2 == arg % 2).ToList();
                        model.Protect(ids, enabled: true, untilMs: now + arg * 60_000L);
                        break;
                    case 2:
                        model.Deploy(null, force: true);
                        break;
                    case 3:
                        model.UpdateFleet([$"h{host}"], Zones, rebalancing: false);
                        break;
                }
                var protectedNow = model.Tasks.Where(kv => kv.Value.IsProtected(now)).Select(kv => kv.Key).ToHashSet();
                var decision = model.Reconcile(nowMs: now);
                Assert.DoesNotContain(decision.Stop, s => protectedNow.Contains(s.TaskId));
                foreach (var id in decision.Start)
                {
                    model.Apply(new TaskUpdate(id, "web", "web", TaskStates.Running, TaskHealth.Unknown, Zones[arg % 3], $"h{arg % 4}"));
                }
                foreach (var stop in decision.Stop)
                {
                    model.Apply(new TaskUpdate(stop.TaskId, "web", "web", TaskStates.Stopped, TaskHealth.Unknown, "a", null));
                }
            }
        }, iter: 2_000);
    }
}
