using System.Text.Json;
using Scheduler.Core.Scenarios;
using Scheduler.Core.Workloads;

namespace Scheduler.Client.Tests;

/// <summary>The Alibaba openb trace replayed end to end: every pod of a slice is placed or reported unplaceable.</summary>
public sealed class TraceReplayCliTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-trace-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);


    private static Task<(int Exit, string Output)> Run(params string[] args) => CliHarness.RunInProcess(args);

    [Fact]
    public async Task A_window_of_the_trace_accounts_for_every_pod_as_placed_or_unplaceable()
    {
        // The real pods; a smaller fleet of the trace's own nodes (30 CPU nodes of 32 cores, 20 G2 GPU nodes of 96 cores),
        // so that the trace's 120-core pods fit no node and must be reported.
        var bundled = RepoPaths.Of(Path.Combine("scenarios", "traces", "alibaba-openb"));
        var trace = Directory.CreateDirectory(Path.Combine(_work, "trace")).FullName;
        File.Copy(Path.Combine(bundled, AlibabaOpenbTrace.DefaultPodFile), Path.Combine(trace, AlibabaOpenbTrace.DefaultPodFile));
        var nodes = File.ReadAllLines(Path.Combine(bundled, AlibabaOpenbTrace.DefaultNodeFile));
        var cpuNodes = nodes.Skip(1).Where(l => l.EndsWith(",0,", StringComparison.Ordinal)).Take(30);
        var gpuNodes = nodes.Skip(1).Where(l => l.EndsWith(",8,G2", StringComparison.Ordinal)).Take(20);
        File.WriteAllLines(Path.Combine(trace, "small-fleet.csv"), [nodes[0], .. cpuNodes, .. gpuNodes]);
        var scenario = Path.Combine(_work, "slice.yaml");
        File.WriteAllText(scenario, """
            name: openb-slice
            seed: 5
            duration: 3h
            generators:
              - traceReplay:
                  path: trace
                  nodes: small-fleet.csv
                  window: { from: 130d, to: 131d }
                  timeScale: 10
            """);

        var loaded = ScenarioLoader.Load(scenario);
        Assert.True(loaded.Ok, string.Join("\n", loaded.Errors));
        var plan = Assert.Single(loaded.TraceReplays);
        Assert.InRange(plan.Pods.Count, 300, 500);

        var outDir = Path.Combine(_work, "out");
        var (exit, output) = await Run("simulate", scenario, "--out", outDir);
        Assert.True(exit == 0, output);

        var taskEvents = new List<TaskEventView>();
        foreach (var line in File.ReadLines(Path.Combine(outDir, "events.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            if (e.GetProperty("kind").GetString() == "task")
            {
                taskEvents.Add(new TaskEventView(e.GetProperty("task").GetString()!, e.GetProperty("state").GetString()!,
                    e.GetProperty("service").GetString(), e.GetProperty("startedBy").GetString(), e.GetProperty("reason").GetString()));
            }
        }
        var outcome = TraceAccounting.Classify(plan.Pods, taskEvents);
        var lost = outcome.Where(kv => kv.Value is not (PodOutcome.Placed or PodOutcome.Unplaceable)).Select(kv => $"{kv.Key}: {kv.Value}").ToList();
        Assert.True(lost.Count == 0, string.Join("\n", lost));
        // Exactly the pods that fit no node are reported unplaceable, with a reason in the log.
        var expected = plan.Pods.Where(p => p.UnplaceableReason is not null).Select(p => p.Pod).Order().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, outcome.Where(kv => kv.Value == PodOutcome.Unplaceable).Select(kv => kv.Key).Order());
        Assert.Contains(plan.Pods, p => p.Mapping == PodMapping.Service && outcome[p.Pod] == PodOutcome.Placed);
        Assert.Contains(plan.Pods, p => p.Mapping == PodMapping.RunTask && outcome[p.Pod] == PodOutcome.Placed);
    }
}
