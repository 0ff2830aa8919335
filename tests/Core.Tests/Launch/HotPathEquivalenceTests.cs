using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.Randomness;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Launch;

/// <summary>
/// The fast paths of task creation, random draws and host snapshots give exactly what the plain definitions
/// give: the run's events must not change by a byte when they are taken.
/// </summary>
public sealed class HotPathEquivalenceTests
{
    [Fact]
    public void A_normal_draw_is_the_box_muller_transform_of_the_two_uniform_draws_of_its_key()
    {
        Gen.Select(Gen.Long, Gen.String[Gen.Char.AlphaNumeric, 0, 20], Gen.Long[0, 1L << 40]).Sample((seed, entity, counter) =>
        {
            var u1 = 1.0 - DeterministicRandom.NextDouble(seed, entity, "launch", 2 * counter);
            var u2 = DeterministicRandom.NextDouble(seed, entity, "launch", 2 * counter + 1);
            var expected = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected),
                BitConverter.DoubleToInt64Bits(DeterministicRandom.NextNormal(seed, entity, "launch", counter)));
        }, iter: 2_000);
    }

    private static readonly Gen<FailureSpec?> AnyFailures =
        from kind in Gen.Int[0, 3]
        from start in Gen.Double[0, 1]
        from crashes in Gen.Double[0, 50]
        from health in Gen.Double[0, 1]
        select kind switch
        {
            0 or 1 => (FailureSpec?)null,
            2 => new FailureSpec(0, 0, 0),
            _ => new FailureSpec(start, crashes, health),
        };

    private static readonly Gen<ContainerSpec> AnyContainer =
        from name in Gen.String[Gen.Char.AlphaNumeric, 1, 6]
        from essential in Gen.Bool
        from failures in AnyFailures
        from health in Gen.Bool
        select new ContainerSpec
        {
            Name = name, Image = "img/" + name, Cpu = 128, Memory = 256, Essential = essential, Failures = failures,
            HealthCheck = health ? new HealthCheckSpec(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), 2) : null,
        };

    [Fact]
    public void A_task_from_a_template_draws_no_failure_exactly_when_no_essential_container_can_fail()
    {
        Gen.Select(AnyContainer.Array[1, 4], Gen.Long, Gen.Int[1, 99_999]).Sample((containers, seed, n) =>
        {
            var def = new TaskDefinitionSpec { Family = "app", Containers = containers };
            var template = TaskLaunches.Template(def, "web", "ec2", null, loadBalancer: false, assignPublicIp: false);
            var id = $"web-{n:D5}";
            var task = template.Create(id, 1_000, seed);

            // The plain definitions, container by container.
            var essential = containers.Where(c => c.Essential && c.Failures is not null).ToList();
            var startFails = essential.Any(c => c.Failures!.StartFailure > 0
                && DeterministicRandom.NextDouble(seed, $"{id}/{c.Name}", "startFailure", 0) < c.Failures.StartFailure);
            var crash = essential.Where(c => c.Failures!.CrashesPerDay > 0)
                .Select(c => (long?)TaskLaunches.TimeToCrashMs(c.Failures!.CrashesPerDay, DeterministicRandom.NextDouble(seed, $"{id}/{c.Name}", "crash", 0)))
                .Min();
            Assert.Equal(startFails, task.StartFails);
            Assert.Equal(crash, task.CrashAfterMs);
            Assert.Equal(id, task.TaskId);
            Assert.Equal(DeterministicRandom.NextNormal(seed, id, "launch", 0), task.LaunchJitter);
            if (essential.Count == 0)
            {
                Assert.Null(task.UnhealthyAfterMs);
            }
        }, iter: 1_000);
    }

    private static TaskLaunch Task(string id, string group, int[] ports) => new()
    {
        TaskId = id, StartedBy = "runTask", CapacityProvider = "ec2", TaskDefinition = "app:1", Group = group,
        Need = new Resources(1, 1, 0), HostPorts = ports,
    };

    [Fact]
    public void A_host_snapshot_lists_its_tasks_ports_and_groups_once_each_in_order()
    {
        var anyTask = Gen.Select(Gen.Int[0, 9], Gen.Int[8000, 8010].Array[0, 3]);
        Gen.Select(anyTask.Array[0, 30], Gen.Int[0, 1000]).Sample((specs, salt) =>
        {
            var events = new List<SimEvent>();
            var host = HostModel.Launch("i-00001", "acme", "prod", "a", "ec2", InstanceTypeCatalog.Default.Find("m6i.4xlarge")!, "1", 0, true, events);
            var tasks = specs.Select((s, k) => Task($"t-{(k * 7919 + salt) % 1000:D4}-{k}", $"svc-{s.Item1}", s.Item2)).ToList();
            host.Accept(0, tasks, LaunchPipeline.Default);
            var held = host.Tasks.Values.Select(t => t.Launch).ToList();

            var snapshot = host.Snapshot();
            Assert.Equal(held.SelectMany(t => t.HostPorts).Distinct().Order(), snapshot.UsedHostPorts);
            Assert.Equal(held.Select(t => t.Group).Distinct().Order(StringComparer.Ordinal), snapshot.Groups);
        }, iter: 1_000);
    }
}
