using System.Globalization;
using System.Text.Json;

namespace Scheduler.Client.Tests.Live;

/// <summary>
/// `serve` as its own process on a free loopback port (with `--record`), driven by the unmodified AWS CLI, and stopped
/// with SIGTERM as a user stops it. Disposing kills it if a test ended early.
/// </summary>
public sealed class ServeProcess : IDisposable
{
    private readonly OutputLines _process;

    private ServeProcess(OutputLines process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>What serve printed so far.</summary>
    public string Output => _process.Text;

    /// <summary>Starts serve on a free port and returns once it says it listens.</summary>
    public static ServeProcess Start(string workDir, string scenario, string outDir, string record, double speed = 50, params string[] extra)
    {
        var port = TestPorts.Free();
        var process = OutputLines.Start(CliHarness.StartInfo(workDir,
        [
            "serve", scenario, "--port", port.ToString(CultureInfo.InvariantCulture), "--speed", speed.ToString(CultureInfo.InvariantCulture),
            "--out", outDir, "--record", record,
            // A slow machine makes a test take long in simulated time: nothing it looks at may be forgotten meanwhile.
            "--keep-stopped", "24h", .. extra,
        ]));
        var serve = new ServeProcess(process, port);
        if (!process.WaitForLine(line => line.StartsWith("serving the ECS API", StringComparison.Ordinal), TimeSpan.FromSeconds(60)))
        {
            serve.Dispose();
            Assert.Fail($"serve did not start listening:\n{process.Text}");
        }
        return serve;
    }

    /// <summary>Runs <c>aws SERVICE ARGS</c> against this server, signed with the given key, without retries.</summary>
    public (int Exit, string Out, string Err) Aws(string service, string key, string secret, params string[] args)
    {
        var env = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = key, ["AWS_SECRET_ACCESS_KEY"] = secret, ["AWS_CONFIG_FILE"] = "/dev/null",
            ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null", ["AWS_DEFAULT_REGION"] = "us-east-1", ["AWS_MAX_ATTEMPTS"] = "1",
            ["AWS_RETRY_MODE"] = "standard", ["AWS_PAGER"] = "",
        };
        return AwsTools.Run("aws", [service, .. args, "--endpoint-url", $"http://127.0.0.1:{Port}", "--region", "us-east-1", "--output", "json"], env);
    }

    /// <summary>SIGTERM, as a user ends a session; returns the exit code.</summary>
    public int Stop()
    {
        Signals.Send(_process.Process.Id, "TERM");
        Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(30)), "serve did not stop on SIGTERM");
        return _process.Process.ExitCode;
    }

    public static JsonElement Ok((int Exit, string Out, string Err) r)
    {
        Assert.True(r.Exit == 0, $"aws failed ({r.Exit}): {r.Err}");
        return JsonDocument.Parse(r.Out).RootElement.Clone();
    }

    public static void Fails((int Exit, string Out, string Err) r, string errorCode)
    {
        Assert.True(r.Exit != 0, $"expected {errorCode}, got success: {r.Out}");
        Assert.Contains($"An error occurred ({errorCode})", r.Err);
    }

    public void Dispose() => _process.Dispose();
}
