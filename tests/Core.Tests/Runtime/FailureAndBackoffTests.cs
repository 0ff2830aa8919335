using CsCheck;
using Scheduler.Core.Engine;
using Scheduler.Core.Placement;
using Scheduler.Core.Runtime;

namespace Scheduler.Core.Tests.Runtime;

/// <summary>Task failures on the host, the service throttle and the deployment circuit breaker.</summary>
public sealed class FailureAndBackoffTests
{
    private static TaskLaunch Launch(string id, string? service = "web") => new()
    {
        TaskId = id, Service = service, StartedBy = service is null ? "runTask" : $"ecs-svc/{service}", CapacityProvider = "fargate",
        TaskDefinition = "web:1", Group = service ?? "family:web", Need = new Resources(256, 512, 0), HealthyAfterMs = 20_000,
    };

    private static (List<SimEvent> Events, List<TaskUpdate> Updates) Run(TaskLaunch launch, long untilMs = 86_400_000)
    {
        var host = HostModel.FargatePool("fargate-a", "acme", "prod", "a", "fargate");
        host.Accept(0, [launch], LaunchPipeline.Default);
        var (events, updates, _) = MemoryModelTests.Run(host, untilMs);
        return (events, updates);
    }

    [Fact]
    public void A_task_that_fails_to_start_stops_from_pending_without_running()
    {
        var (events, updates) = Run(Launch("web-1") with { StartFails = true });
        Assert.DoesNotContain(events, e => e.State == TaskStates.Running);
        Assert.Equal(StopReasons.CannotStart, events.Single(e => e.State == TaskStates.Stopped).Reason);
        Assert.True(updates.Single(u => u.State == TaskStates.Deactivating).Unstable);
    }

    [Fact]
    public void A_crash_stops_the_task_when_it_happens_and_counts_as_unstable_only_before_healthy()
    {
        Gen.Long[1_000, 60_000].Sample(crash =>
        {
            var (events, updates) = Run(Launch("web-1") with { CrashAfterMs = crash });
            var running = events.First(e => e.State == TaskStates.Running).TimeMs;
            var stopped = events.Single(e => e.State == TaskStates.Stopped);
            Assert.Equal(StopReasons.Crashed, stopped.Reason);
            Assert.InRange(events.Single(e => e.State == TaskStates.Deactivating).TimeMs - running - crash, 0, 999);
            // Ticks are whole seconds: a crash noticed in the tick the task turns HEALTHY comes after it.
            Assert.Equal((crash + 999) / 1000 * 1000 < 20_000, updates.Single(u => u.State == TaskStates.Deactivating).Unstable);
        }, iter: 50);
    }

    [Fact]
    public void A_failing_health_check_marks_the_task_unhealthy_and_stops_it()
    {
        var (events, updates) = Run(Launch("web-1") with { UnhealthyAfterMs = 40_000 });
        var running = events.First(e => e.State == TaskStates.Running).TimeMs;
        var unhealthy = events.Single(e => e.Health == TaskHealth.Unhealthy && e.State == TaskStates.Running);
        Assert.Equal(running + 40_000, unhealthy.TimeMs);
        Assert.DoesNotContain(events, e => e.Health == TaskHealth.Healthy);
        Assert.Equal(StopReasons.HealthCheckFailed, events.Single(e => e.State == TaskStates.Stopped).Reason);
        Assert.True(updates.Single(u => u.State == TaskStates.Deactivating).Unstable);
    }

    [Fact]
    public void A_standalone_task_is_reported_stopped_with_its_reason()
    {
        var (events, updates) = Run(Launch("run-1", service: null) with { CrashAfterMs = 5_000 });
        var stopped = events.Single(e => e.State == TaskStates.Stopped);
        Assert.Equal((null, "runTask", StopReasons.Crashed), (stopped.Service, stopped.StartedBy, stopped.Reason));
        Assert.Null(updates.Single(u => u.State == TaskStates.Stopped).Service);
    }

    [Fact]
    public void Backoff_delays_double_from_the_base_up_to_the_bound()
    {
        Gen.Select(Gen.Long[1, 60_000], Gen.Long[1, 3_600_000], Gen.Int[0, 80]).Sample((baseMs, extra, n) =>
        {
            var p = new BackoffPolicy { BaseMs = baseMs, MaxMs = baseMs + extra };
            var d = p.DelayMs(n);
            Assert.InRange(d, 0, p.MaxMs);
            Assert.True(d <= p.DelayMs(n + 1));
            Assert.Equal(n == 0 ? 0 : (long)Math.Min(p.MaxMs, baseMs * Math.Pow(2, n - 1)), d);
        });
    }

    private static ServiceModel Service(string name = "web") => new()
    {
        Name = name, TaskDefinition = "web:1", DesiredCount = 2, HasHealthCheck = true,
        Breaker = new DeploymentCircuitBreaker { Enabled = true, Rollback = true, Deployment = "web:1", LastCompleted = "web:0", Status = DeploymentStatus.InProgress },
    };

    private static TaskUpdate Failed(string id) => new(id, "web", "web", TaskStates.Deactivating, TaskHealth.Unknown, "a", null, Unstable: true);

    [Fact]
    public void The_throttle_grows_with_failures_in_a_row_and_resets_on_stability_or_a_new_deployment()
    {
        var policy = new BackoffPolicy();
        Gen.Select(Gen.Int[0, 3].Array[1, 40], Gen.Long[1_000, 600_000]).Sample((steps, gap) =>
        {
            var model = Service();
            model.Breaker = model.Breaker with { Enabled = false };
            var now = 0L;
            var failures = 0;
            foreach (var step in steps)
            {
                now += gap;
                var start = model.Reconcile();
                switch (step)
                {
                    case 0 or 1:
                        // One of the started tasks failed before it was stable.
                        var id = start.Start.Count > 0 ? start.Start[0] : model.Tasks.Keys.First();
                        ServiceStability.Observe(model, [Failed(id)], now);
                        model.Apply(Failed(id));
                        failures++;
                        break;
                    case 2:
                        var ok = model.Tasks.Keys.First();
                        ServiceStability.Observe(model, [new TaskUpdate(ok, "web", "web", TaskStates.Running, TaskHealth.Healthy, "a", null, Stable: true)], now);
                        failures = 0;
                        break;
                    default:
                        ServiceStability.StartDeployment(model, "web:2");
                        failures = 0;
                        break;
                }
                var allowance = ServiceStability.Allowance(model, policy, now, 5, out var retry);
                Assert.Equal(failures, model.Backoff.Failures);
                if (failures == 0)
                {
                    Assert.Equal(5, allowance);
                }
                else
                {
                    Assert.Equal(0, allowance);
                    Assert.Equal(now + policy.DelayMs(failures), retry);
                    Assert.Equal(5, ServiceStability.Allowance(model, policy, retry, 5, out _));
                }
            }
        });
    }

    [Fact]
    public void A_failing_service_never_slows_its_neighbour()
    {
        var policy = new BackoffPolicy();
        Gen.Select(Gen.Long[0, 100_000].Array[0, 30], Gen.Int[1, 50]).Sample((failureTimes, maxStarts) =>
        {
            var failing = Service("bad");
            var neighbour = Service("good");
            failing.Reconcile();
            neighbour.Reconcile();
            foreach (var t in failureTimes.Order())
            {
                var id = failing.Tasks.Keys.FirstOrDefault() ?? failing.Reconcile().Start[0];
                ServiceStability.Observe(failing, [Failed(id)], t);
                ServiceStability.Observe(neighbour, [Failed(id)], t);
                failing.Apply(Failed(id));
                failing.Reconcile();
                Assert.Equal(maxStarts, ServiceStability.Allowance(neighbour, policy, t, maxStarts, out var retry));
                Assert.Equal(0, retry);
            }
            Assert.Equal(ServiceBackoff.None, neighbour.Backoff);
        });
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(6, 3)]
    [InlineData(7, 4)]
    [InlineData(100, 50)]
    [InlineData(1000, 200)]
    public void The_circuit_breaker_threshold_is_half_the_desired_count_between_3_and_200(int desired, int threshold) =>
        Assert.Equal(threshold, DeploymentCircuitBreaker.Threshold(desired));

    [Fact]
    public void The_circuit_breaker_trips_at_its_threshold_and_rolls_back_to_the_last_completed_revision()
    {
        Gen.Int[1, 500].Sample(desired =>
        {
            var model = Service();
            model.DesiredCount = desired;
            var threshold = DeploymentCircuitBreaker.Threshold(desired);
            for (var i = 1; i <= threshold; i++)
            {
                Assert.Null(ServiceStability.Settle(model));
                model.Tasks[$"t{i}"] = new ServiceTask();
                ServiceStability.Observe(model, [Failed($"t{i}")], i * 1000);
                model.Apply(Failed($"t{i}"));
            }
            Assert.Equal(DeploymentStatus.Failed, model.Breaker.Status);
            Assert.Equal("web:0", ServiceStability.Settle(model));
            Assert.Equal("web:0", model.TaskDefinition);
            Assert.Equal((DeploymentStatus.InProgress, 0), (model.Breaker.Status, model.Breaker.Failures));
            Assert.Equal(ServiceBackoff.None, model.Backoff);
        }, iter: 50);
    }

    [Fact]
    public void Without_rollback_a_failed_deployment_stops_launching_until_the_next_one()
    {
        var model = Service();
        model.Breaker = model.Breaker with { Rollback = false };
        for (var i = 1; i <= 3; i++)
        {
            model.Tasks[$"t{i}"] = new ServiceTask();
            ServiceStability.Observe(model, [Failed($"t{i}")], 0);
        }
        Assert.Null(ServiceStability.Settle(model));
        Assert.Equal(0, ServiceStability.Allowance(model, new BackoffPolicy(), 86_400_000, 10, out var retry));
        Assert.Equal(long.MaxValue, retry);
        ServiceStability.StartDeployment(model, "web:2");
        Assert.Equal(10, ServiceStability.Allowance(model, new BackoffPolicy(), 0, 10, out _));
    }
}
