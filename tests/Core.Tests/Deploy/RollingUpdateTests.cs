using CsCheck;
using Scheduler.Core.Engine;

namespace Scheduler.Core.Tests.Deploy;

/// <summary>Rolling updates: a new deployment replaces every task within minimumHealthyPercent and maximumPercent.</summary>
public sealed class RollingUpdateTests
{
    private static readonly string[] Zones = ["a", "b", "c"];

    private sealed record Case(int Desired, int MinPercent, int MaxPercent, int HealthyDelay, int[] RatePerRound, bool Force);

    private static readonly Gen<Case> GenCase =
        from desired in Gen.Int[1, 30]
        from min in Gen.Int[0, 4].Select(i => new[] { 0, 25, 50, 75, 100 }[i])
        from max in Gen.Int[0, 4].Select(i => new[] { 100, 110, 125, 150, 200 }[i])
        // Capacity allows a rollout: room above desired or below it (else ECS waits forever too).
        where max * desired / 100 > desired || (min * desired + 99) / 100 < desired
        from delay in Gen.Int[0, 4]
        from rate in Gen.Int[1, 40].Array[50]
        from force in Gen.Bool
        select new Case(desired, min, max, delay, rate, force);

    private static ServiceModel Settled(Case c)
    {
        var model = new ServiceModel
        {
            Name = "web", TaskDefinition = "web:1", DesiredCount = c.Desired, HasHealthCheck = true,
            MinimumHealthyPercent = c.MinPercent, MaximumPercent = c.MaxPercent, Rebalancing = false,
        };
        for (var i = 0; i < c.Desired; i++)
        {
            model.Tasks[$"old-{i:D3}"] = new ServiceTask { State = TaskStates.Running, Health = TaskHealth.Healthy, Zone = Zones[i % 3], Instance = $"h{i % 3}" };
        }
        model.UpdateFleet([], Zones, rebalancing: false);
        return model;
    }

    /// <summary>Rounds of reconciliation: started tasks become RUNNING and HEALTHY after a delay, stopped ones leave the next round.</summary>
    private static int Drive(ServiceModel model, Case c, int rounds = 400)
    {
        var minHealthy = (c.MinPercent * c.Desired + 99) / 100;
        var maxTotal = Math.Max(c.Desired, c.MaxPercent * c.Desired / 100);
        var coming = new List<(int Round, string Id)>();
        var leaving = new List<string>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var id in leaving)
            {
                model.Apply(new TaskUpdate(id, "web", "web", TaskStates.Stopped, TaskHealth.Unknown, "a", null));
            }
            leaving.Clear();
            foreach (var (_, id) in coming.Where(x => x.Round <= round).ToList())
            {
                model.Apply(new TaskUpdate(id, "web", "web", TaskStates.Running, TaskHealth.Healthy, Zones[id.GetHashCode(StringComparison.Ordinal) & 1], "h9"));
            }
            coming.RemoveAll(x => x.Round <= round);

            var before = model.Tasks.ToDictionary(kv => kv.Key, kv => kv.Value.Deployment);
            var decision = model.Reconcile(c.RatePerRound[round % c.RatePerRound.Length]);
            Assert.True(decision.Start.Count <= c.RatePerRound[round % c.RatePerRound.Length], "more starts than the deployment rate allows");
            foreach (var stop in decision.Stop)
            {
                Assert.Equal(StopReasons.Deployment, stop.Reason);
                Assert.NotEqual(model.Deployment, before[stop.TaskId]);
                leaving.Add(stop.TaskId);
                model.Apply(new TaskUpdate(stop.TaskId, "web", "web", TaskStates.Deactivating, TaskHealth.Healthy, "a", null));
            }
            foreach (var id in decision.Start)
            {
                Assert.Equal(model.Deployment, model.Tasks[id].Deployment);
                coming.Add((round + c.HealthyDelay, id));
            }
            var healthy = model.Tasks.Values.Count(t => !t.Stopping && model.IsHealthy(t));
            Assert.True(healthy >= minHealthy, $"round {round}: {healthy} healthy, minimum {minHealthy}");
            var live = model.Tasks.Values.Count(t => !t.Stopping);
            Assert.True(live <= maxTotal, $"round {round}: {live} tasks, maximum {maxTotal}");
            if (model.Outdated == 0 && coming.Count == 0 && leaving.Count == 0 && model.Healthy == c.Desired && live == c.Desired)
            {
                return round;
            }
        }
        return -1;
    }

    [Fact]
    public void A_rolling_update_keeps_minimum_healthy_and_maximum_percent_and_ends_on_the_new_revision()
    {
        GenCase.Sample(c =>
        {
            var model = Settled(c);
            Assert.True(model.Deploy(c.Force ? null : "web:2", force: c.Force));
            var done = Drive(model, c);
            Assert.True(done >= 0, "the rollout never finished");
            Assert.All(model.Tasks.Values, t => Assert.Equal(2, t.Deployment));
            Assert.Equal(c.Force ? "web:1#2" : "web:2#2", model.DeploymentId);
        }, iter: 2_000);
    }

    [Fact]
    public void The_same_revision_without_force_is_not_a_new_deployment()
    {
        var model = Settled(new Case(6, 100, 200, 1, [10], false));
        Assert.False(model.Deploy("web:1", force: false));
        Assert.Equal(1, model.Deployment);
        var decision = model.Reconcile();
        Assert.Empty(decision.Start);
        Assert.Empty(decision.Stop);
    }

    [Fact]
    public void With_maximum_percent_100_old_tasks_stop_first_down_to_minimum_healthy()
    {
        var c = new Case(10, 50, 100, 1, [100], false);
        var model = Settled(c);
        model.Deploy("web:2", force: false);
        var first = model.Reconcile();
        Assert.Empty(first.Start);
        Assert.Equal(5, first.Stop.Count);
        foreach (var stop in first.Stop)
        {
            model.Apply(new TaskUpdate(stop.TaskId, "web", "web", TaskStates.Stopped, TaskHealth.Unknown, "a", null));
        }
        Assert.True(Drive(model, c) >= 0);
    }

    [Fact]
    public void A_new_deployment_resets_the_service_event_so_it_carries_the_deployment()
    {
        var model = Settled(new Case(3, 100, 200, 1, [10], false));
        Assert.NotNull(model.TakeChangedCounts());
        Assert.Null(model.TakeChangedCounts());
        model.Deploy(null, force: true);
        Assert.NotNull(model.TakeChangedCounts());
        Assert.Equal("web:1#2", model.LastReportedDeployment);
    }
}
