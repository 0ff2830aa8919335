using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Scheduler.Abstractions;
using Scheduler.Silo;

namespace Scheduler.Client;

/// <summary>A client of a running cluster of silo processes (<c>simulate --connect STORE=CONNECTION</c>).</summary>
public sealed class ConnectedCluster : IAsyncDisposable
{
    private readonly IHost _host;

    private ConnectedCluster(IHost host) => _host = host;

    public IGrainFactory Grains => _host.Services.GetRequiredService<IClusterClient>();

    /// <summary>How long the client keeps trying to reach a gateway when it starts (silos may still be starting).</summary>
    public static readonly TimeSpan ConnectPatience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Parses <c>STORE=CONNECTION</c>, split at the first <c>=</c> (connection strings contain more). For the
    /// development silo on the memory store, the connection is its gateway port (default 30000).
    /// </summary>
    public static SchedulerStore? Parse(string text, out string? problem)
    {
        var equals = text.IndexOf('=');
        var name = equals < 0 ? text : text[..equals];
        var connection = equals < 0 ? "" : text[(equals + 1)..];
        if (!SchedulerStore.TryParseKind(name, out var kind))
        {
            problem = $"'{name}' is not a store; write STORE=CONNECTION with STORE one of memory, redis, azuretable (e.g. redis=127.0.0.1:6379)";
            return null;
        }
        if (kind == StoreKind.Memory && connection.Length > 0 && !int.TryParse(connection, out _))
        {
            problem = $"memory={connection}: for the development silo on the memory store, the connection is its gateway port";
            return null;
        }
        problem = SchedulerStore.Problem(kind, connection);
        return problem is null ? new SchedulerStore(kind, connection) : null;
    }

    public static async Task<ConnectedCluster> ConnectAsync(SchedulerStore store, string clusterId, CancellationToken cancellation = default)
    {
        var patience = Stopwatch.StartNew();
        var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders().SetMinimumLevel(LogLevel.Warning))
            .UseOrleansClient(client =>
            {
                if (store.Kind == StoreKind.Memory)
                {
                    client.UseLocalhostClustering(store.Connection.Length == 0 ? 30000 : int.Parse(store.Connection), "scheduler", clusterId);
                    client.AddSchedulerClient();
                }
                else
                {
                    client.UseSchedulerClustering(store);
                    client.Configure<ClusterOptions>(o =>
                    {
                        o.ClusterId = clusterId;
                        o.ServiceId = "scheduler";
                    });
                }
                client.UseConnectionRetryFilter(async (_, token) =>
                {
                    if (patience.Elapsed >= ConnectPatience)
                    {
                        return false;
                    }
                    await Task.Delay(TimeSpan.FromSeconds(1), token);
                    return true;
                });
            })
            .Build();
        try
        {
            await host.StartAsync(cancellation);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new ConnectedCluster(host);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _host.StopAsync(timeout.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }
}
