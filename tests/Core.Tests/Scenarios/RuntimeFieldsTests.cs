using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Tests.Scenarios;

/// <summary>The task runtime's scenario fields (usage models, failures, oomScoreAdj, runtime section).</summary>
public sealed class RuntimeFieldsTests
{
    /// <summary>A one-container scenario; <paramref name="container"/> lines are indented under the containers list.</summary>
    private static string Scenario(string container, string extraTop = "", string taskDef = "")
    {
        var indented = string.Join("\n", container.Split('\n').Select((l, i) => (i == 0 ? "              - " : "                ") + l));
        return $$"""
            name: rt
            {{extraTop}}
            accounts:
              - id: acme
                clusters:
                  - name: prod
                    capacityProviders:
                      - { name: fargate, type: FARGATE }
                    taskDefinitions:
                      - family: web
                        cpu: 256
                        memory: 512
                        {{taskDef}}
                        containers:
            {{indented}}
            """;
    }

    [Fact]
    public void Every_runtime_field_is_read()
    {
        var result = ScenarioLoader.Parse(Scenario(
            """
            name: app
            image: web
            memory: 512
            cpu: 256
            usage:
              memoryMiB: { mean: 300, stddev: 8 }
              leakMiBPerHour: 60
              spikes: { every: 1h, length: 2m, extraMiB: 100 }
              heap: { percent: 60, minMiB: 128, maxMiB: 4096, fallbackMiB: 2048, overheadMiB: 96 }
              cpu: { units: 128, startupUnits: 1024, startup: 20s }
            failures: { startFailure: 0.1, crashesPerDay: 2, healthCheckFailure: 0.25 }
            healthCheck: { interval: 5s }
            """,
            "runtime: { memorySampleInterval: 30s, hostReservedMemoryMiB: 512, backoff: { base: 5s, max: 10m, stableAfter: 1m } }",
            "oomScoreAdj: -500"), "rt.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var s = result.Scenario!;
        Assert.Equal((30_000L, 512.0), (s.Runtime.MemorySampleIntervalMs, s.Runtime.HostReservedMemoryMiB));
        Assert.Equal((5_000L, 600_000L, 60_000L), (s.Runtime.Backoff.BaseMs, s.Runtime.Backoff.MaxMs, s.Runtime.Backoff.StableAfterMs));
        var td = s.Accounts[0].Clusters[0].TaskDefinitions[0];
        Assert.Equal(-500, td.OomScoreAdj);
        var c = td.Containers[0];
        Assert.Equal((300.0, 8.0, 60.0), (c.Usage!.MeanMiB, c.Usage.StddevMiB, c.Usage.LeakMiBPerHour));
        Assert.Equal(new SpikeSpec(TimeSpan.FromHours(1), TimeSpan.FromMinutes(2), 100), c.Usage.Spikes);
        Assert.Equal(new Scheduler.Core.Runtime.HeapSizing { Percent = 60, MinMiB = 128, MaxMiB = 4096, FallbackMiB = 2048, OverheadMiB = 96 }, c.Usage.Heap);
        Assert.Equal(new CpuUsageSpec(128, 1024, TimeSpan.FromSeconds(20)), c.Usage.Cpu);
        Assert.Equal(new FailureSpec(0.1, 2, 0.25), c.Failures);
    }

    [Fact]
    public void A_constant_memory_level_may_be_a_number_and_heap_defaults_are_the_seeds()
    {
        var result = ScenarioLoader.Parse(Scenario("{ name: app, image: web, memory: 512, usage: { memoryMiB: 300, heap: {} } }"), "rt.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var usage = result.Scenario!.Accounts[0].Clusters[0].TaskDefinitions[0].Containers[0].Usage!;
        Assert.Equal((300.0, 0.0), (usage.MeanMiB, usage.StddevMiB));
        Assert.Equal((75.0, 512.0, 8192.0, 1024.0), (usage.Heap!.Percent, usage.Heap.MinMiB, usage.Heap.MaxMiB, usage.Heap.FallbackMiB));
    }

    [Fact]
    public void Bad_runtime_fields_are_reported_with_line_column_and_field()
    {
        var result = ScenarioLoader.Parse(Scenario(
            """
            name: app
            image: web
            memory: 512
            usage: { memoryMiB: 300, spikes: { every: 1m, length: 2m, extraMiB: 10 }, heap: { minMiB: 900, maxMiB: 800 }, leak: 3 }
            failures: { startFailure: 1.5, healthCheckFailure: 0.5 }
            """,
            "runtime: { memorySampleInterval: 1500ms }",
            "oomScoreAdj: 2000"), "rt.yaml");
        Assert.False(result.Ok);
        const string c = "accounts[0].clusters[0].taskDefinitions[0].containers[0]";
        var errors = result.Errors.Select(e => (e.Line, e.Column, e.Field, e.Message)).ToList();
        Assert.Contains(errors, e => e is (2, _, "runtime.memorySampleInterval", var m) && m.Contains("whole number of ticks"));
        Assert.Contains(errors, e => e is (13, 26, "accounts[0].clusters[0].taskDefinitions[0].oomScoreAdj", var m) && m.Contains("between -1000 and 1000"));
        Assert.Contains(errors, e => e.Field == $"{c}.usage.spikes.length" && e.Line == 18 && e.Message.Contains("shorter than every"));
        Assert.Contains(errors, e => e.Field == $"{c}.usage.heap.minMiB" && e.Message.Contains("above maxMiB"));
        Assert.Contains(errors, e => e.Field == $"{c}.usage.leak" && e.Message.Contains("unknown field 'leak'"));
        Assert.Contains(errors, e => e.Field == $"{c}.failures.startFailure" && e.Line == 19 && e.Message.Contains("between 0 and 1"));
        Assert.Contains(errors, e => e.Field == $"{c}.failures.healthCheckFailure" && e.Message.Contains("needs a healthCheck"));
        Assert.All(result.Errors, e => Assert.Equal("rt.yaml", e.File));
    }
}
