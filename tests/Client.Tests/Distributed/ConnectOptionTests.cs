using System.Diagnostics;

namespace Scheduler.Client.Tests.Distributed;

/// <summary>Bad distributed settings, of the client and of the silo host: a clear error naming the flag, exit code 2, nothing run.</summary>
public sealed class ConnectOptionTests
{
    [Theory]
    [InlineData("--connect nosuch=127.0.0.1:6379", "--connect: 'nosuch' is not a store")]
    [InlineData("--connect redis", "--connect: the redis store needs a connection string")]
    [InlineData("--connect azuretable=", "--connect: the azuretable store needs a connection string")]
    [InlineData("--connect memory=abc", "--connect: memory=abc: for the development silo on the memory store, the connection is its gateway port")]
    [InlineData("--connect redis=127.0.0.1:1 --silos 3", "--silos starts embedded silos")]
    [InlineData("--cluster-id other", "--cluster-id names the cluster --connect connects to; it needs --connect")]
    [InlineData("--checkpoint-interval 1s", "--checkpoint-interval: checkpoints protect a run on silo processes; it needs --connect")]
    [InlineData("--connect redis=127.0.0.1:1 --checkpoint-interval 10ms", "--checkpoint-interval: '10ms' must be between 100ms and 1h")]
    public async Task A_bad_connect_setting_is_refused_before_anything_runs(string flags, string message)
    {
        var outDir = Path.Combine(Path.GetTempPath(), $"connect-bad-{Guid.NewGuid():N}");
        var args = new List<string> { "simulate", RepoPaths.Of("scenarios/quickstart.yaml"), "--out", outDir };
        args.AddRange(flags.Split(' '));
        var (exit, output) = await CliHarness.RunInProcess([.. args]);
        Assert.Equal(2, exit);
        Assert.Contains(message, output);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public async Task The_silo_host_names_each_bad_flag_and_exits_2()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Scheduler.Silo.dll"), "--store", "nosuch", "--silo-port", "abc", "--gateway-port", "70000" })
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(2, process.ExitCode);
        var errors = await stderr;
        Assert.Contains("error: --store: 'nosuch' is not a store; use memory, redis or azuretable", errors);
        Assert.Contains("error: --silo-port: 'abc' is not a port number (1 to 65535)", errors);
        Assert.Contains("error: --gateway-port: '70000' is not a port number (1 to 65535)", errors);
        Assert.DoesNotContain("   at ", errors + await stdout);
    }

    [Fact]
    public void The_connect_string_is_split_at_its_first_equals_sign()
    {
        var store = ConnectedCluster.Parse("azuretable=DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k==;", out var problem);
        Assert.Null(problem);
        Assert.Equal(Silo.StoreKind.AzureTable, store!.Kind);
        Assert.Equal("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k==;", store.Connection);
        Assert.Equal(Silo.StoreKind.Redis, ConnectedCluster.Parse("REDIS=10.0.0.1:6379,password=x=y", out _)!.Kind);
    }
}
