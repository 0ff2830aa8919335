using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Scheduler.Silo;

// A standalone silo. Configuration comes from appsettings.json, environment variables (prefix
// SCHEDULER_, e.g. SCHEDULER_Silo__SiloPort) and the command line (--Silo:SiloPort 11112).
var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddEnvironmentVariables("SCHEDULER_");
// --dashboard PORT is short for --Silo:DashboardPort PORT.
builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--dashboard"] = "Silo:DashboardPort" });
var options = builder.Configuration.GetSection("Silo").Get<SiloHostOptions>() ?? new SiloHostOptions();
builder.UseOrleans(silo =>
{
    silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort,
        options.PrimarySiloPort is { } primary ? new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, primary) : null);
    silo.AddSchedulerGrains();
    silo.AddSchedulerTelemetry();
    if (options.DashboardPort is { } dashboard)
    {
        silo.AddSchedulerDashboard(dashboard);
    }
});
await builder.Build().RunAsync();
