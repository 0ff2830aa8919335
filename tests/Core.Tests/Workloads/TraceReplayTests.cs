using CsCheck;
using Scheduler.Core.Catalog;
using Scheduler.Core.Scenarios;
using Scheduler.Core.Workloads;

namespace Scheduler.Core.Tests.Workloads;

public sealed class TraceReplayTests
{
    private static TracePod Pod(string name, long cpuMilli, long mem, int gpus, string qos, long created, long deleted, int gpuMilli = 0, params string[] spec) =>
        new(name, 2, cpuMilli, mem, gpus, gpuMilli, spec, qos, "Running", created, deleted, created);

    private static readonly TraceNode[] Nodes =
    [
        new("n0", 2, 32_000, 262_144, 0, null),
        new("n1", 3, 96_000, 393_216, 8, "G2"),
        new("n2", 4, 96_000, 393_216, 8, "G2"),
    ];

    [Fact]
    public void Pods_become_services_or_run_tasks_by_qos_and_arrive_and_leave_at_their_trace_times()
    {
        var pods = new[]
        {
            Pod("ls-1", 4000, 8192, 1, "LS", 100, 400, gpuMilli: 460),
            Pod("be-1", 1500, 1024, 0, "BE", 50, 3650),
        };
        var plan = TraceReplay.Expand(new TraceReplayOptions(), pods, Nodes, InstanceTypeCatalog.Default);

        var cluster = Assert.Single(Assert.Single([plan.Account]).Clusters);
        var provider = Assert.Single(cluster.CapacityProviders);
        Assert.Equal(CapacityType.External, provider.Type);
        Assert.Equal([(32.0, 262_144L, 1, 0, (string?)null), (96.0, 393_216L, 2, 8, "A100")],
            provider.Instances.Select(i => (i.Vcpu, i.MemoryMiB, i.Count, i.Gpus, i.GpuModel)));

        var service = Assert.Single(cluster.Services);
        Assert.Equal(("ls-1", 0), (service.Name, service.DesiredCount));
        var ls = cluster.TaskDefinitions.Single(t => t.Family == service.TaskDefinition);
        // 4000 milli-CPU is 4096 cpu units; a share of one GPU reserves a whole GPU.
        Assert.Equal((4096, 8192, 1), (ls.ReservedCpu, ls.ReservedMemoryMiB, ls.ReservedGpus));

        Assert.Collection(plan.Timeline.OrderBy(e => e.At),
            e =>
            {
                Assert.Equal(TimeSpan.FromSeconds(50), e.At);
                var run = Assert.IsType<RunTaskAction>(e.Action);
                Assert.Equal(("be-1", 1, TimeSpan.FromSeconds(3600)), (run.StartedBy, run.Count, run.RunTime!.Mean));
            },
            e => Assert.Equal((TimeSpan.FromSeconds(100), 1), (e.At, Assert.IsType<UpdateServiceAction>(e.Action).DesiredCount)),
            e => Assert.Equal((TimeSpan.FromSeconds(400), 0), (e.At, Assert.IsType<UpdateServiceAction>(e.Action).DesiredCount)));
        Assert.All(plan.Pods, p => Assert.Null(p.UnplaceableReason));
    }

    [Fact]
    public void A_pod_larger_than_every_node_or_instance_type_is_planned_with_a_reason()
    {
        var pods = new[] { Pod("huge", 120_200, 737_280, 0, "BE", 0, 10), Pod("gpu8", 8000, 8192, 8, "BE", 0, 10) };
        var external = TraceReplay.Expand(new TraceReplayOptions(), pods, Nodes, InstanceTypeCatalog.Default);
        Assert.Contains("more than any node", external.Pods[0].UnplaceableReason);
        Assert.Null(external.Pods[1].UnplaceableReason);

        var mi = TraceReplay.Expand(new TraceReplayOptions { Fleet = TraceFleet.ManagedInstances }, pods, Nodes, InstanceTypeCatalog.Default);
        Assert.Contains("more than any instance type", mi.Pods[0].UnplaceableReason);
        Assert.Null(mi.Pods[1].UnplaceableReason);
        Assert.Equal([TraceReplay.CpuProvider, TraceReplay.GpuProvider], mi.Pods.Select(p => p.CapacityProvider));
        // The pods are still replayed, so the engine reports them in the event log.
        Assert.Equal(2, mi.Timeline.Count);
    }

    [Fact]
    public void A_window_and_a_time_scale_compress_the_trace_and_skip_pods_outside()
    {
        var pods = new[]
        {
            Pod("before", 1000, 1024, 0, "BE", 0, 1000),
            Pod("spanning", 1000, 1024, 0, "BE", 1000, 50_000),
            Pod("inside", 1000, 1024, 0, "LS", 20_000, 30_000),
            Pod("after", 1000, 1024, 0, "BE", 40_000, 41_000),
        };
        var options = new TraceReplayOptions { WindowFrom = TimeSpan.FromSeconds(10_000), WindowTo = TimeSpan.FromSeconds(40_000), TimeScale = 100 };
        var plan = TraceReplay.Expand(options, pods, Nodes, InstanceTypeCatalog.Default);
        Assert.Equal(2, plan.SkippedOutsideWindow);
        Assert.Equal(["spanning", "inside"], plan.Pods.Select(p => p.Pod));
        // Simulated = (trace - 10,000 s) / 100, clipped to the window.
        Assert.Equal((TimeSpan.Zero, TimeSpan.FromSeconds(300)), (plan.Pods[0].Arrive, plan.Pods[0].Leave));
        Assert.Equal((TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(200)), (plan.Pods[1].Arrive, plan.Pods[1].Leave));
    }

    private static readonly Gen<TracePod> AnyPod =
        from i in Gen.Int[0, 99_999]
        from cpu in Gen.Long[0, 130_000]
        from mem in Gen.Long[0, 800_000]
        from gpus in Gen.Int[0, 9]
        from milli in Gen.Int[0, 1000]
        from qos in Gen.Int[0, 4].Select(k => new[] { "LS", "BE", "Burstable", "Guaranteed", "Other" }[k])
        from created in Gen.Long[0, 1_000_000]
        from life in Gen.Long[0, 500_000]
        select Pod($"pod-{i}", cpu, mem, gpus, qos, created, created + life, milli);

    [Fact]
    public void Every_selected_pod_gets_exactly_its_arrival_and_departure_and_leaves_after_it_arrives()
    {
        Gen.Select(AnyPod.Array[0, 40], Gen.Double[0.5, 1000], Gen.Bool).Sample((raw, scale, mi) =>
        {
            var pods = raw.DistinctBy(p => p.Name).ToArray();
            var options = new TraceReplayOptions { TimeScale = scale, Fleet = mi ? TraceFleet.ManagedInstances : TraceFleet.External };
            var plan = TraceReplay.Expand(options, pods, Nodes, InstanceTypeCatalog.Default);
            Assert.Equal(pods.Length, plan.Pods.Count + plan.SkippedOutsideWindow);
            Assert.Equal(pods.Length, plan.Pods.Count);
            var cluster = plan.Account.Clusters[0];
            foreach (var p in plan.Pods)
            {
                Assert.True(p.Leave > p.Arrive);
                Assert.Contains(cluster.TaskDefinitions, t => t.Family == p.TaskDefinition);
                Assert.Contains(cluster.CapacityProviders, c => c.Name == p.CapacityProvider);
                var actions = plan.Timeline.Where(e => e.Action switch
                {
                    RunTaskAction r => r.StartedBy == p.Pod,
                    UpdateServiceAction u => u.Service == p.Pod,
                    _ => false,
                }).ToList();
                Assert.Equal(p.Mapping == PodMapping.Service ? 2 : 1, actions.Count);
                Assert.Equal(p.Arrive, actions.Min(a => a.At));
            }
            Assert.Equal(plan.Pods.Count(p => p.Mapping == PodMapping.Service), cluster.Services.Count);
        }, iter: 200);
    }

    [Fact]
    public void Accounting_classifies_pods_by_service_or_started_by()
    {
        PodPlan Plan(string pod, PodMapping m) => new(pod, "LS", m, "p", "td", TimeSpan.Zero, TimeSpan.FromSeconds(1), null);
        var plans = new[] { Plan("a", PodMapping.Service), Plan("b", PodMapping.RunTask), Plan("c", PodMapping.RunTask), Plan("d", PodMapping.RunTask) };
        var events = new[]
        {
            new TaskEventView("a-00001", "PROVISIONING", "a", "ecs-svc/a", null),
            new TaskEventView("a-00001", "RUNNING", "a", "ecs-svc/a", null),
            new TaskEventView("run-00001", "STOPPED", null, "b", "Unplaceable: too large"),
            new TaskEventView("run-00002", "STOPPED", null, "c", "ScalingIn"),
            // A service task named like a RunTask pod is not that pod.
            new TaskEventView("x-00001", "RUNNING", "x", "d", null),
        };
        var outcome = TraceAccounting.Classify(plans, events);
        Assert.Equal([PodOutcome.Placed, PodOutcome.Unplaceable, PodOutcome.NeverPlaced, PodOutcome.NotSeen], outcome.Values);
    }

    [Fact]
    public void Trace_csv_errors_name_file_line_column_and_column_name()
    {
        var errors = new List<ScenarioError>();
        var pods = AlibabaOpenbTrace.ReadPods("pods.csv", """
            name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
            p0,1000,1024,0,0,,BE,Running,0,10,0
            p1,lots,1024,0,0,,BE,Running,0,10,0
            p2,1000,1024,0,0,,BE,Running,50,10,
            p3,1000
            """, errors);
        Assert.Equal(["p0"], pods.Select(p => p.Name));
        Assert.Equal(
            [("pods.csv", 3, 4, "cpu_milli"), ("pods.csv", 4, 33, "deletion_time"), ("pods.csv", 5, 1, "")],
            errors.Select(e => (e.File, e.Line, e.Column, e.Field)));
        Assert.Contains("'lots' is not a whole number", errors[0].Message);
        Assert.Contains("before creation_time 50", errors[1].Message);

        errors.Clear();
        AlibabaOpenbTrace.ReadNodes("nodes.csv", "sn,cpu_milli,memory_mib\nn0,1,1\n", errors);
        Assert.Contains("missing column(s) gpu, model", Assert.Single(errors).Message);
    }

    [Fact]
    public void A_trace_of_bad_lines_stops_after_the_errors_that_are_printed()
    {
        var errors = new List<ScenarioError>();
        var text = "sn,cpu_milli,memory_mib,gpu,model\n" + string.Concat(Enumerable.Repeat("n,1\n", 100_000));
        Assert.Empty(AlibabaOpenbTrace.ReadNodes("nodes.csv", text, errors));
        Assert.Equal(ScenarioLoadResult.PrintedErrors + 1, errors.Count);
        Assert.All(errors.Take(ScenarioLoadResult.PrintedErrors), e => Assert.Contains("expected 5 comma-separated values, found 2", e.Message));
        Assert.Equal(ScenarioLoadResult.PrintedErrors + 2, errors[^1].Line);
        Assert.Contains("the lines from here on are not checked", errors[^1].Message);
    }
}
