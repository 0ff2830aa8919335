namespace Scheduler.Silo;

/// <summary>Settings of a standalone silo host (section "Silo" of the configuration).</summary>
public sealed class SiloHostOptions
{
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    /// <summary>Silo port of the primary silo to join; null = this silo is the primary.</summary>
    public int? PrimarySiloPort { get; set; }
    /// <summary>Serve the Orleans Dashboard on this port of 127.0.0.1; null = no dashboard.</summary>
    public int? DashboardPort { get; set; }
}
