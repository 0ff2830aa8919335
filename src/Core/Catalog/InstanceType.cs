namespace Scheduler.Core.Catalog;

/// <summary>An EC2 instance type as placement and cost see it.</summary>
/// <param name="Name">e.g. m5.2xlarge</param>
/// <param name="Family">e.g. m (the letter family: c, m, r, g, p ...)</param>
/// <param name="Vcpu">vCPUs; placement reserves 1024 cpu units per vCPU.</param>
/// <param name="MemoryMiB">memory; placement reserves this minus the agent/OS reservation.</param>
public sealed record InstanceType(
    string Name,
    string Family,
    int Vcpu,
    long MemoryMiB,
    int Gpus,
    string? GpuModel,
    bool BareMetal,
    decimal HourlyPrice,
    TimeSpan LaunchLatency)
{
    public int CpuUnits => Vcpu * 1024;
}
