using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orleans.Configuration;
using Orleans.Dashboard;
using Scheduler.Core.Diagnostics;

namespace Scheduler.Silo;

/// <summary>
/// Live telemetry of a silo: the scheduler's meter and spans and Orleans's own, exported over OTLP when the
/// standard OpenTelemetry environment variables ask for it (OTEL_EXPORTER_OTLP_ENDPOINT, _PROTOCOL,
/// OTEL_METRIC_EXPORT_INTERVAL, OTEL_SERVICE_NAME ...). Both the silo host and the embedded run call this.
/// </summary>
public static partial class SchedulerTelemetry
{
    /// <summary>Orleans's meter (grain calls, activations, messaging ...).</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>True when the configuration (environment variables included) names an OTLP endpoint.</summary>
    public static bool OtlpRequested(IConfiguration configuration) =>
        new[] { "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" }
            .Any(k => !string.IsNullOrWhiteSpace(configuration[k]));

    public static ISiloBuilder AddSchedulerTelemetry(this ISiloBuilder silo)
    {
        if (!OtlpRequested(silo.Configuration))
        {
            return silo;
        }
        // Carries the tick's span into the grain calls it makes, so placement's spans join the tick's trace.
        silo.AddActivityPropagation();
        silo.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(SchedulerDiagnostics.Name, OrleansMeter).AddOtlpExporter())
            .WithTracing(tracing => tracing
                .AddSource(SchedulerDiagnostics.Name, Orleans.Diagnostics.ActivitySources.ApplicationGrainActivitySourceName)
                .AddOtlpExporter());
        silo.Services.AddHostedService<TelemetryFlush>();
        return silo;
    }

    /// <summary>
    /// The Orleans Dashboard: the silo collects the dashboard's figures (every silo of a cluster must, for the
    /// dashboard to show them all), and with a <paramref name="port"/> a small web server in this process (an
    /// Orleans client of the silo's gateway) serves the pages on 127.0.0.1:port once the host has started.
    /// </summary>
    public static ISiloBuilder AddSchedulerDashboard(this ISiloBuilder silo, int? port)
    {
        silo.AddDashboard();
        if (port is { } serve)
        {
            silo.Services.AddHostedService(sp => new DashboardWebServer(serve, sp, sp.GetRequiredService<ILogger<DashboardWebServer>>()));
        }
        return silo;
    }

    /// <summary>Exports what the providers still hold when the host stops, so a run of one second still reports.</summary>
    private sealed class TelemetryFlush(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            services.GetService<MeterProvider>()?.ForceFlush(5_000);
            services.GetService<TracerProvider>()?.ForceFlush(5_000);
            return Task.CompletedTask;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Orleans Dashboard on http://127.0.0.1:{Port}/")]
    private static partial void LogDashboardServing(ILogger logger, int port);

    [LoggerMessage(Level = LogLevel.Error, Message = "The Orleans Dashboard could not be served on port {Port}")]
    private static partial void LogDashboardFailed(ILogger logger, Exception error, int port);

    private sealed class DashboardWebServer(int port, IServiceProvider silo, ILogger<DashboardWebServer> logger) : IHostedService
    {
        private WebApplication? _app;
        private Task? _starting;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            // The client can connect only once the silo's gateway is open: after every hosted service has started.
            silo.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => _starting = ServeAsync());
            return Task.CompletedTask;
        }

        private async Task ServeAsync()
        {
            try
            {
                await StartServerAsync();
                LogDashboardServing(logger, port);
            }
            catch (Exception e)
            {
                LogDashboardFailed(logger, e, port);
            }
        }

        private async Task StartServerAsync()
        {
            var cluster = silo.GetRequiredService<IOptions<ClusterOptions>>().Value;
            var gateway = silo.GetRequiredService<IOptions<EndpointOptions>>().Value.GatewayPort;
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
            builder.UseOrleansClient(client =>
            {
                client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gateway));
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = cluster.ClusterId;
                    o.ServiceId = cluster.ServiceId;
                });
                client.AddDashboard();
            });
            var app = builder.Build();
            app.MapOrleansDashboard();
            await app.StartAsync();
            _app = app;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (_starting is { } starting)
            {
                // Never throws: a server that did not come up was logged, and the silo stops all the same.
                await starting;
            }
            if (_app is { } app)
            {
                await app.StopAsync(cancellationToken);
                await app.DisposeAsync();
            }
        }
    }
}
