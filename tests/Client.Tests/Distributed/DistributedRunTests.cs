using System.Diagnostics;
using System.Text.Json;

namespace Scheduler.Client.Tests.Distributed;

/// <summary>
/// Real silo processes on a real store (redis-server, Azurite's table service): a scenario runs with --connect, one
/// silo is killed with SIGKILL in the middle of the run, and the run still exits 0 with the same events.jsonl,
/// byte for byte, as the embedded run of the same scenario and seed.
/// </summary>
public sealed class DistributedRunTests
{
    private const string Scenario = "tests/Client.Tests/Distributed/crash-run.yaml";

    [RequiresToolFact("redis-server", "redis.sh")]
    public async Task A_silo_killed_in_the_middle_of_a_run_on_Redis_changes_nothing_in_the_log()
    {
        var port = TestPorts.Free();
        using var redis = new ExternalProcess("redis-server", "redis-server", ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        await ExternalProcesses.WaitForPortAsync(port, redis, TimeSpan.FromSeconds(20));
        await RunWithASiloKilled("redis", $"127.0.0.1:{port}");
    }

    [RequiresToolFact("azurite-table", "azurite.sh")]
    public async Task A_silo_killed_in_the_middle_of_a_run_on_Azure_Table_storage_changes_nothing_in_the_log()
    {
        var port = TestPorts.Free();
        using var azurite = new ExternalProcess("azurite-table", "azurite-table",
            ["--tableHost", "127.0.0.1", "--tablePort", port.ToString(), "--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl"]);
        await ExternalProcesses.WaitForPortAsync(port, azurite, TimeSpan.FromSeconds(30));
        // Azurite's well-known development account.
        var connection = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
            $"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
        await RunWithASiloKilled("azuretable", connection);
    }

    private static async Task RunWithASiloKilled(string store, string connection)
    {
        var scenario = RepoPaths.Of(Scenario);
        var work = Directory.CreateTempSubdirectory("dist-test-");
        var clusterId = $"test-{Guid.NewGuid():N}";
        var silos = new List<ExternalProcess>();
        try
        {
            var embedded = Path.Combine(work.FullName, "embedded");
            var (exit, output) = await CliHarness.RunInProcess("simulate", scenario, "--out", embedded);
            Assert.True(exit == 0, output);

            var siloDll = Path.Combine(AppContext.BaseDirectory, "Scheduler.Silo.dll");
            var gateways = new List<int>();
            var siloPorts = new List<int>();
            for (var i = 0; i < 3; i++)
            {
                var gateway = TestPorts.Free();
                gateways.Add(gateway);
                siloPorts.Add(TestPorts.Free());
                silos.Add(new ExternalProcess($"silo {i + 1}", "dotnet",
                    [siloDll, "--store", store, "--connection", connection, "--cluster-id", clusterId,
                     "--silo-port", siloPorts[i].ToString(), "--gateway-port", gateway.ToString(), "--Logging:LogLevel:Default", "Warning"]));
            }
            for (var i = 0; i < silos.Count; i++)
            {
                await ExternalProcesses.WaitForPortAsync(gateways[i], silos[i], TimeSpan.FromSeconds(120));
            }

            // The observer that picks the silo to kill connects before the run starts: connecting takes a second or
            // two, and on a fast machine the whole run takes only a few seconds more.
            var parsed = ConnectedCluster.Parse($"{store}={connection}", out var problem) ?? throw new InvalidOperationException(problem);
            await using var observer = await ConnectedCluster.ConnectAsync(parsed, clusterId);

            var connected = Path.Combine(work.FullName, "connected");
            using var client = new ExternalProcess("client", "dotnet",
                [Path.Combine(AppContext.BaseDirectory, "Scheduler.Client.dll"), "simulate", scenario, "--out", connected,
                 "--connect", $"{store}={connection}", "--cluster-id", clusterId, "--checkpoint-interval", "300ms"], RepoPaths.Root());
            // The client writes events only once a checkpoint covers them: the first bytes of the log mean the run is
            // under way with a committed checkpoint. Then one silo dies.
            var events = Path.Combine(connected, "events.jsonl");
            var clock = Stopwatch.StartNew();
            while (!(File.Exists(events) && new FileInfo(events).Length > 0) && clock.Elapsed < TimeSpan.FromSeconds(90) && !client.Exited)
            {
                await Task.Delay(50);
            }
            Assert.False(File.Exists(Path.Combine(connected, "summary.json")), "the run ended before a silo could be killed in the middle of it");
            // The silo that holds most of the run's grains dies, so the run must notice it (a silo that happened to
            // hold none of them could die unnoticed, and the test would prove nothing about recovery).
            silos[await BusiestSiloAsync(observer, siloPorts)].Kill();
            Assert.False(File.Exists(Path.Combine(connected, "summary.json")), "the run ended before the silo was killed, so the test proves nothing");

            Assert.True(client.WaitForExit(TimeSpan.FromSeconds(120)), $"the client did not finish:\n{client.Output}");
            Assert.True(client.ExitCode == 0, client.Output);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(embedded, "events.jsonl")), await File.ReadAllBytesAsync(events));

            using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(connected, "summary.json")));
            var root = summary.RootElement;
            Assert.True(root.GetProperty("resumes").GetInt32() >= 1, $"the run never noticed the lost silo:\n{client.Output}");
            Assert.Equal(2, root.GetProperty("silos").GetInt32());
            Assert.True(root.GetProperty("checkpoints").GetInt64() >= 1);
        }
        finally
        {
            foreach (var silo in silos)
            {
                silo.Dispose();
            }
            work.Delete(recursive: true);
        }
    }

    /// <summary>Which of the silos (by silo port) holds the most activations of the scheduler's own grains now.</summary>
    private static async Task<int> BusiestSiloAsync(ConnectedCluster observer, List<int> siloPorts)
    {
        var statistics = await observer.Grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        var perPort = statistics
            .Where(g => !g.GrainId.Type.ToString()!.StartsWith("sys.", StringComparison.Ordinal))
            .GroupBy(g => g.SiloAddress.Endpoint.Port)
            .ToDictionary(g => g.Key, g => g.Count());
        var busiest = Enumerable.Range(0, siloPorts.Count).MaxBy(i => perPort.GetValueOrDefault(siloPorts[i]));
        Assert.True(perPort.GetValueOrDefault(siloPorts[busiest]) > 0, "no silo holds a grain of the run");
        return busiest;
    }
}
