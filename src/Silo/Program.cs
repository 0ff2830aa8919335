using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using Scheduler.Silo;

// A standalone silo. Configuration comes from appsettings.json, environment variables (prefix SCHEDULER_, e.g.
// SCHEDULER_Silo__Store=redis) and the command line (--store, --connection, --cluster-id, --silo-port,
// --gateway-port, --dashboard PORT, or any setting as --Silo:AdvertisedIP 10.0.0.5), the command line winning.
var argumentProblems = SiloHostOptions.ArgumentProblems(args);
if (argumentProblems.Count > 0)
{
    foreach (var problem in argumentProblems)
    {
        Console.Error.WriteLine($"error: {problem}");
    }
    return 2;
}
var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddEnvironmentVariables("SCHEDULER_");
builder.Configuration.AddCommandLine(args, SiloHostOptions.Switches.ToDictionary());
var section = builder.Configuration.GetSection("Silo");
var problems = SiloHostOptions.Problems(section);
if (problems.Count > 0)
{
    foreach (var problem in problems)
    {
        Console.Error.WriteLine($"error: {problem}");
    }
    return 2;
}
var options = section.Get<SiloHostOptions>() ?? new SiloHostOptions();
SchedulerStore.TryParseKind(options.Store, out var kind);
var store = new SchedulerStore(kind, options.Connection ?? "");
builder.UseOrleans(silo =>
{
    if (store.Kind == StoreKind.Memory)
    {
        // Membership in this process's memory: a development cluster of one silo (others may join it on
        // 127.0.0.1 with Silo:PrimarySiloPort, but the state dies with the primary).
        silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort,
            options.PrimarySiloPort is { } primary ? new IPEndPoint(IPAddress.Loopback, primary) : null, options.ServiceId, options.ClusterId);
    }
    else
    {
        silo.UseSchedulerClustering(store);
        if (options.Kubernetes)
        {
            // Address, cluster id and service id from the pod (POD_IP, ORLEANS_CLUSTER_ID, ORLEANS_SERVICE_ID), and
            // pods of silos declared dead are deleted.
            silo.UseKubernetesHosting();
        }
        else
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            silo.ConfigureEndpoints(options.AdvertisedIP is { } ip ? IPAddress.Parse(ip) : IPAddress.Loopback, options.SiloPort, options.GatewayPort,
                listenOnAnyHostAddress: options.AdvertisedIP is not null);
        }
    }
    silo.AddSchedulerGrains(store);
    silo.AddSchedulerTelemetry();
    if (options.DashboardPort is { } dashboard)
    {
        silo.AddSchedulerDashboard(dashboard);
    }
});
await builder.Build().RunAsync();
return 0;
