using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scheduler.Silo;

namespace Scheduler.Client;

/// <summary>
/// One or more real silos started in this process on loopback ports, joined into one cluster (the first is
/// the primary). The client calls grains through the first silo's co-hosted grain factory.
/// </summary>
public sealed class EmbeddedCluster : IAsyncDisposable
{
    private readonly List<IHost> _hosts;

    private EmbeddedCluster(List<IHost> hosts) => _hosts = hosts;

    public IGrainFactory Grains => _hosts[0].Services.GetRequiredService<IGrainFactory>();

    public int Silos => _hosts.Count;

    /// <param name="dashboardPort">Serve the Orleans Dashboard from the first silo on this port (null = no dashboard).</param>
    public static async Task<EmbeddedCluster> StartAsync(int silos, CancellationToken cancellation = default, int? dashboardPort = null)
    {
        if (silos < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(silos), "at least one silo");
        }
        var hosts = new List<IHost>();
        IPEndPoint? primary = null;
        try
        {
            for (var i = 0; i < silos; i++)
            {
                var siloPort = FreePort();
                var gatewayPort = FreePort();
                var primaryEndpoint = primary;
                var host = Host.CreateDefaultBuilder()
                    .ConfigureLogging(l => l.ClearProviders().SetMinimumLevel(LogLevel.Warning))
                    .UseOrleans(silo =>
                    {
                        silo.UseLocalhostClustering(siloPort, gatewayPort, primaryEndpoint);
                        silo.AddSchedulerGrains();
                        if (primaryEndpoint is null)
                        {
                            // Meters and activity sources are process-wide: one silo exports them for the process.
                            silo.AddSchedulerTelemetry();
                        }
                        if (dashboardPort is not null)
                        {
                            // Every silo collects the dashboard's figures; the first serves the pages.
                            silo.AddSchedulerDashboard(primaryEndpoint is null ? dashboardPort : null);
                        }
                    })
                    .Build();
                await host.StartAsync(cancellation);
                hosts.Add(host);
                primary ??= new IPEndPoint(IPAddress.Loopback, siloPort);
            }
            return new EmbeddedCluster(hosts);
        }
        catch
        {
            await new EmbeddedCluster(hosts).DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Secondaries first, so that the primary's membership table outlives them.
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _hosts[i].StopAsync(timeout.Token);
            }
            finally
            {
                _hosts[i].Dispose();
            }
        }
        _hosts.Clear();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
