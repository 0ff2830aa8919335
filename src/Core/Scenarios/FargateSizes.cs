namespace Scheduler.Core.Scenarios;

/// <summary>The task sizes Fargate offers: for each cpu value (units, 1024 = 1 vCPU) a memory range and step (MiB).</summary>
public static class FargateSizes
{
    private static readonly (int Cpu, int MinMemory, int MaxMemory, int Step)[] Sizes =
    [
        (256, 512, 2048, 512),
        (512, 1024, 4096, 1024),
        (1024, 2048, 8192, 1024),
        (2048, 4096, 16384, 1024),
        (4096, 8192, 30720, 1024),
        (8192, 16384, 61440, 4096),
        (16384, 32768, 122880, 8192),
    ];

    public static IReadOnlyList<int> CpuValues { get; } = Sizes.Select(s => s.Cpu).ToArray();

    public static bool IsValid(int cpu, int memory)
    {
        if (cpu == 256)
        {
            return memory is 512 or 1024 or 2048;
        }
        foreach (var s in Sizes)
        {
            if (s.Cpu == cpu)
            {
                return memory >= s.MinMemory && memory <= s.MaxMemory && (memory - s.MinMemory) % s.Step == 0;
            }
        }
        return false;
    }

    /// <summary>Which memory values go with <paramref name="cpu"/>, or which cpu values exist, in words.</summary>
    public static string Describe(int cpu)
    {
        if (cpu == 256)
        {
            return "with cpu 256, memory must be 512, 1024 or 2048";
        }
        foreach (var s in Sizes)
        {
            if (s.Cpu == cpu)
            {
                return $"with cpu {cpu}, memory must be {s.MinMemory} to {s.MaxMemory} in steps of {s.Step}";
            }
        }
        return $"Fargate cpu must be one of {string.Join(", ", CpuValues)}";
    }
}
