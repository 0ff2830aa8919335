using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Net.Sockets;
using System.Text.Json;

namespace Scheduler.Client.Tests;

/// <summary>Live telemetry of a real run: OTLP to a receiver of ours, and the Orleans Dashboard over HTTP.</summary>
public sealed class TelemetryTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-otel-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>A short Fargate run that goes over the account's launch bucket (burst 100), so every instrument records:
    /// the service's deployment rate is raised so that it asks for all 150 tasks at once.</summary>
    private const string Scenario = """
        name: otel
        seed: 1
        duration: 10m
        accounts:
          - id: acme
            limits: { serviceDeploymentFargate: { burst: 500, perSecond: 10 } }
            clusters:
              - name: prod
                capacityProviders:
                  - { name: fargate, type: FARGATE }
                  - { name: mi, type: MANAGED_INSTANCES }
                taskDefinitions:
                  - family: web
                    cpu: 256
                    memory: 512
                    containers:
                      - { name: app, image: acme/web, cpu: 256, memoryReservation: 256, memory: 512 }
                services:
                  - { name: web, taskDefinition: web, desiredCount: 150, capacityProvider: fargate }
                  - { name: api, taskDefinition: web, desiredCount: 6, capacityProvider: mi }
        """;

    [Fact]
    public void A_run_exports_the_scheduler_and_orleans_meters_and_cluster_tick_traces_over_otlp_before_it_exits()
    {
        var scenario = Path.Combine(_work, "otel.yaml");
        File.WriteAllText(scenario, Scenario);
        using var receiver = new OtlpReceiver();
        var (exit, output) = CliHarness.RunProcess(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            // Longer than the run: what arrives was exported when the process shut down.
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "600000",
            ["OTEL_SERVICE_NAME"] = "scheduler-otel-test",
        }, "simulate", scenario, "--out", Path.Combine(_work, "out"));
        Assert.True(exit == 0, output);

        var metrics = receiver.Requests.Where(r => r.Path == "/v1/metrics").SelectMany(r => Otlp.Metrics(r.Body)).ToList();
        Assert.All(metrics, m => Assert.Equal("scheduler-otel-test", m.Service));
        var scheduler = metrics.Where(m => m.Scope == "Scheduler").Select(m => m.Metric).ToHashSet();
        foreach (var name in new[] { "scheduler.placements", "scheduler.tasks.pending", "scheduler.tick.duration", "scheduler.throttles" })
        {
            Assert.Contains(name, scheduler);
        }
        Assert.Contains(metrics, m => m.Scope == "Microsoft.Orleans" && m.Metric.StartsWith("orleans-", StringComparison.Ordinal));

        var spans = receiver.Requests.Where(r => r.Path == "/v1/traces").SelectMany(r => Otlp.Spans(r.Body)).ToList();
        var ticks = spans.Where(s => s.Name == "cluster.tick").ToList();
        Assert.NotEmpty(ticks);
        var byId = spans.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        // Each placement phase span descends from a cluster tick (through the grain call to the placement grain).
        var phases = spans.Where(s => s.Name.StartsWith("placement.phase", StringComparison.Ordinal)).ToList();
        Assert.Contains(phases, p => p.Name == "placement.phase1");
        Assert.Contains(phases, p => p.Name == "placement.phase2-3");
        Assert.All(phases, p =>
        {
            var at = p;
            while (at.Name != "cluster.tick" && byId.TryGetValue(at.ParentId, out var parent))
            {
                at = parent;
            }
            Assert.Equal("cluster.tick", at.Name);
            Assert.Equal(p.TraceId, at.TraceId);
        });
    }

    [Fact]
    public async Task The_orleans_dashboard_answers_over_http_while_the_embedded_cluster_runs_and_counts_its_silos()
    {
        var port = TestPorts.Free();
        await using var cluster = await EmbeddedCluster.StartAsync(2, dashboardPort: port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        HttpResponseMessage? page = null;
        // The dashboard's server starts once the silo is up; give it a bounded time.
        for (var attempt = 0; attempt < 100 && page is not { IsSuccessStatusCode: true }; attempt++)
        {
            try
            {
                page = await http.GetAsync($"http://127.0.0.1:{port}/");
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200);
            }
        }
        Assert.NotNull(page);
        Assert.Equal(HttpStatusCode.OK, page!.StatusCode);
        Assert.Contains("<html", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        // Both silos of the cluster report to it. The dashboard gathers its counters on a timer, so the first answer
        // may predate the first round: wait (bounded) until the silos are counted.
        var hosts = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (hosts != 2 && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            using var json = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/DashboardCounters"));
            hosts = json.RootElement.GetProperty("totalActiveHostCount").GetInt32();
            if (hosts != 2)
            {
                await Task.Delay(250);
            }
        }
        Assert.Equal(2, hosts);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [Fact]
    public async Task The_silo_host_serves_the_dashboard_and_exports_orleans_metrics_when_it_stops()
    {
        var (siloPort, gatewayPort, dashboardPort) = (TestPorts.Free(), TestPorts.Free(), TestPorts.Free());
        using var receiver = new OtlpReceiver();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Scheduler.Silo.dll"), "--Silo:SiloPort", $"{siloPort}",
                     "--Silo:GatewayPort", $"{gatewayPort}", "--dashboard", $"{dashboardPort}" })
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint;
        start.Environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        start.Environment["OTEL_METRIC_EXPORT_INTERVAL"] = "600000";
        start.Environment["OTEL_SERVICE_NAME"] = "scheduler-silo-test";
        using var silo = Process.Start(start)!;
        var output = new StringBuilder();
        silo.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        silo.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        silo.BeginOutputReadLine();
        silo.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            string? counters = null;
            // A silo on a busy machine can take well over half a minute to start: wait for it, not for a count of tries.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (counters is null && !silo.HasExited && waited.Elapsed < TimeSpan.FromMinutes(3))
            {
                try
                {
                    counters = await http.GetStringAsync($"http://127.0.0.1:{dashboardPort}/DashboardCounters");
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    await Task.Delay(200);
                }
            }
            Assert.True(counters is not null, $"the silo's dashboard did not answer: {output}");
            using var json = JsonDocument.Parse(counters!);
            Assert.Equal(1, json.RootElement.GetProperty("totalActiveHostCount").GetInt32());
        }
        finally
        {
            // SIGTERM: the host stops as it would under Kubernetes, and flushes its telemetry on the way out.
            kill(silo.Id, 15);
            if (!silo.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                silo.Kill(entireProcessTree: true);
            }
        }
        var metrics = receiver.Requests.Where(r => r.Path == "/v1/metrics").SelectMany(r => Otlp.Metrics(r.Body)).ToList();
        Assert.Contains(metrics, m => m.Scope == "Microsoft.Orleans" && m.Service == "scheduler-silo-test");
    }
}
