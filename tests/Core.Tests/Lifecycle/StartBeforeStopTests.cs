using CsCheck;
using Scheduler.Core.Engine;

namespace Scheduler.Core.Tests.Lifecycle;

/// <summary>The service side of a drain: replacements first, old tasks stopped only when replaced, never below minimumHealthyPercent.</summary>
public sealed class StartBeforeStopTests
{
    private static readonly string[] Zones = ["a", "b", "c"];

    private sealed record Case(int Desired, int MinPercent, int MaxPercent, int Hosts, int[] Placement, bool[] Draining, int HealthyDelay);

    private static readonly Gen<Case> GenCase =
        from desired in Gen.Int[1, 24]
        from min in Gen.Int[0, 3].Select(i => new[] { 0, 50, 75, 100 }[i])
        from max in Gen.Int[0, 3].Select(i => new[] { 100, 125, 150, 200 }[i])
        // A drain can move only with room above desired or below it (else it waits for the hard limit, as in ECS).
        where max * desired / 100 > desired || (min * desired + 99) / 100 < desired
        from hosts in Gen.Int[1, 6]
        from placement in Gen.Int[0, hosts - 1].Array[desired]
        from draining in Gen.Bool.Array[hosts]
        from delay in Gen.Int[1, 3]
        select new Case(desired, min, max, hosts, placement, draining, delay);

    private static ServiceModel Settled(Case c)
    {
        var model = new ServiceModel
        {
            Name = "web", TaskDefinition = "web:1", DesiredCount = c.Desired, HasHealthCheck = true,
            MinimumHealthyPercent = c.MinPercent, MaximumPercent = c.MaxPercent, Rebalancing = false,
        };
        for (var i = 0; i < c.Desired; i++)
        {
            var host = c.Placement[i];
            model.Tasks[$"old-{i:D3}"] = new ServiceTask
            {
                State = TaskStates.Running, Health = TaskHealth.Healthy, Instance = $"h{host}", Zone = Zones[host % 3],
            };
        }
        model.UpdateFleet(Enumerable.Range(0, c.Hosts).Where(h => c.Draining[h]).Select(h => $"h{h}"), Zones, rebalancing: false);
        return model;
    }

    /// <summary>
    /// Runs reconciliation rounds: new tasks land on fresh hosts and become RUNNING and HEALTHY after a delay;
    /// stopped tasks leave the next round. Checks the invariants after every decision.
    /// </summary>
    private static void Drive(ServiceModel model, Case c, Func<int, string> zoneOfNew)
    {
        var minHealthy = (c.MinPercent * c.Desired + 99) / 100;
        var maxTotal = Math.Max(c.Desired, c.MaxPercent * c.Desired / 100);
        var coming = new List<(int Round, string Id)>();
        var leaving = new List<string>();
        var placed = 0;
        for (var round = 0; round < 300; round++)
        {
            foreach (var id in leaving)
            {
                model.Apply(new TaskUpdate(id, "web", "web", TaskStates.Stopped, TaskHealth.Unknown, "a", null));
            }
            leaving.Clear();
            foreach (var (_, id) in coming.Where(x => x.Round <= round).ToList())
            {
                var zone = zoneOfNew(placed++);
                model.Apply(new TaskUpdate(id, "web", "web", TaskStates.Running, TaskHealth.Healthy, zone, $"new-{zone}"));
            }
            coming.RemoveAll(x => x.Round <= round);

            var before = model.Tasks.ToDictionary(kv => kv.Key, kv => (Old: model.IsOld(kv.Value), Healthy: model.IsHealthy(kv.Value)));
            var decision = model.Reconcile();
            foreach (var stop in decision.Stop)
            {
                Assert.Equal(StopReasons.InstanceDraining, stop.Reason);
                Assert.True(before[stop.TaskId].Old, $"{stop.TaskId} is not on a draining host");
                leaving.Add(stop.TaskId);
                model.Apply(new TaskUpdate(stop.TaskId, "web", "web", TaskStates.Deactivating, TaskHealth.Healthy, "a", null));
            }
            var healthy = model.Tasks.Values.Count(t => !t.Stopping && model.IsHealthy(t));
            Assert.True(healthy >= minHealthy, $"round {round}: {healthy} healthy, minimum {minHealthy}");
            var live = model.Tasks.Values.Count(t => !t.Stopping && t.State != TaskStates.Deactivating);
            Assert.True(live <= maxTotal, $"round {round}: {live} tasks, maximum {maxTotal}");
            foreach (var id in decision.Start)
            {
                coming.Add((round + c.HealthyDelay, id));
            }
            if (decision.Start.Count == 0 && decision.Stop.Count == 0 && coming.Count == 0 && leaving.Count == 0)
            {
                break;
            }
        }
        // Converged: desired count of healthy tasks, none on a draining host.
        Assert.Equal(c.Desired, model.Tasks.Values.Count(t => model.IsHealthy(t) && !model.IsOld(t)));
        Assert.DoesNotContain(model.Tasks.Values, model.IsOld);
    }

    [Fact]
    public void A_drain_replaces_every_task_on_draining_hosts_without_going_below_minimum_healthy_or_above_maximum()
    {
        GenCase.Sample(c => Drive(Settled(c), c, n => Zones[n % 3]), iter: 2000);
    }

    [Fact]
    public void With_the_default_100_200_an_old_task_stops_only_after_a_replacement_is_healthy()
    {
        var c = new Case(4, 100, 200, 2, [0, 0, 1, 1], [true, false], 1);
        var model = Settled(c);
        var first = model.Reconcile();
        Assert.Equal(2, first.Start.Count);
        Assert.Empty(first.Stop);
        // One replacement is RUNNING but not yet HEALTHY: nothing stops.
        model.Apply(new TaskUpdate(first.Start[0], "web", "web", TaskStates.Running, TaskHealth.Unknown, "b", "h9"));
        Assert.Empty(model.Reconcile().Stop);
        // Now it is healthy: exactly one old task stops, for the drain.
        model.Apply(new TaskUpdate(first.Start[0], "web", "web", TaskStates.Running, TaskHealth.Healthy, "b", "h9"));
        var second = model.Reconcile();
        Assert.Equal(StopReasons.InstanceDraining, Assert.Single(second.Stop).Reason);
        Assert.Equal("h0", second.Stop[0].Instance);
    }

    [Fact]
    public void With_no_room_above_desired_a_drain_stops_first_within_minimum_healthy()
    {
        var c = new Case(4, 50, 100, 2, [0, 0, 1, 1], [true, false], 1);
        var model = Settled(c);
        var d = model.Reconcile();
        Assert.Empty(d.Start);
        Assert.Equal(2, d.Stop.Count);
        Assert.All(d.Stop, s => Assert.Equal("h0", s.Instance));
    }

    [Fact]
    public void Scale_in_takes_one_victim_at_a_time_from_the_most_crowded_zone()
    {
        var model = new ServiceModel { Name = "web", TaskDefinition = "web:1", DesiredCount = 3, Rebalancing = false };
        string[] zones = ["a", "a", "a", "b", "b", "c"];
        for (var i = 0; i < zones.Length; i++)
        {
            model.Tasks[$"t{i}"] = new ServiceTask { State = TaskStates.Running, Health = TaskHealth.Healthy, Zone = zones[i], Instance = $"h{i}" };
        }
        var d = model.Reconcile();
        Assert.Equal(3, d.Stop.Count);
        // Left: one per zone.
        var left = model.Tasks.Values.Where(t => !t.Stopping).Select(t => t.Zone ?? "").Order().ToArray();
        Assert.Equal(["a", "b", "c"], left);
    }

    [Fact]
    public void Rebalancing_evens_zones_one_move_at_a_time_start_before_stop()
    {
        Gen.Select(Gen.Int[2, 20], Gen.Int[0, 2]).Sample((desired, crowded) =>
        {
            var c = new Case(desired, 100, 200, 1, new int[desired], [false], 1);
            var model = Settled(c);
            foreach (var t in model.Tasks.Values)
            {
                t.Zone = Zones[crowded];
            }
            model.UpdateFleet([], Zones, rebalancing: true);
            // The placement puts a new task into the zone with fewest of the service's tasks.
            string Fewest(int _) => Zones.OrderBy(z => model.Tasks.Values.Count(t => !t.Stopping && t.Zone == z && !model.IsOld(t))).First();
            var stops = 0;
            for (var round = 0; round < 200; round++)
            {
                var d = model.Reconcile();
                Assert.True(model.Tasks.Values.Count(t => !t.Stopping && model.IsHealthy(t)) >= desired);
                foreach (var s in d.Stop)
                {
                    Assert.Equal(StopReasons.Rebalancing, s.Reason);
                    model.Apply(new TaskUpdate(s.TaskId, "web", "web", TaskStates.Stopped, TaskHealth.Unknown, "a", null));
                    stops++;
                }
                foreach (var id in d.Start)
                {
                    var zone = Fewest(0);
                    model.Apply(new TaskUpdate(id, "web", "web", TaskStates.Running, TaskHealth.Healthy, zone, $"n-{zone}"));
                }
                if (d.Start.Count == 0 && d.Stop.Count == 0)
                {
                    break;
                }
            }
            var counts = model.ZoneCounts(model.Tasks.Values);
            Assert.True(counts.Max() - counts.Min() <= 1, string.Join("/", counts));
            Assert.Equal(desired, counts.Sum());
            Assert.True(stops <= desired);
        }, iter: 200);
    }
}
