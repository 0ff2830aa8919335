using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Catalog;

/// <summary>The instance types a run may launch. The built-in default holds the C, M and R families
/// (2, 4 and 8 GiB per vCPU) of the 6th (c6i/m6i/r6i, with metal) and 5th (c5/m5/r5) generations in sizes
/// large..24xlarge, and a few GPU types; a scenario can
/// replace it with a file of its own.</summary>
public sealed class InstanceTypeCatalog
{
    private readonly Dictionary<string, InstanceType> _byName;

    public InstanceTypeCatalog(IEnumerable<InstanceType> types)
    {
        Types = types.OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();
        _byName = Types.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>All types, ordered by name.</summary>
    public IReadOnlyList<InstanceType> Types { get; }

    public InstanceType? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The general-purpose families used when a capacity provider gives no requirements.</summary>
    public static readonly IReadOnlyList<string> DefaultFamilies = ["c", "m", "r"];

    public static InstanceTypeCatalog Default { get; } = new(BuildDefault());

    /// <summary>Types that satisfy attribute-based instance requirements (null = the C, M and R families, no metal).</summary>
    public IReadOnlyList<InstanceType> Select(InstanceRequirements? requirements)
    {
        var r = requirements ?? new InstanceRequirements { Families = DefaultFamilies };
        return Types.Where(t => Matches(t, r)).ToArray();
    }

    public static bool Matches(InstanceType t, InstanceRequirements r)
    {
        if (r.Families.Count > 0 && !r.Families.Contains(t.Family, StringComparer.OrdinalIgnoreCase)) return false;
        if (r.ExcludedFamilies.Contains(t.Family, StringComparer.OrdinalIgnoreCase)) return false;
        if (r.AllowedTypes.Count > 0 && !r.AllowedTypes.Contains(t.Name, StringComparer.OrdinalIgnoreCase)) return false;
        if (r.ExcludedTypes.Contains(t.Name, StringComparer.OrdinalIgnoreCase)) return false;
        if (!InRange(t.Vcpu, r.Vcpu)) return false;
        if (!InRange(t.MemoryMiB, r.MemoryMiB)) return false;
        if (!InRange((double)t.MemoryMiB / t.Vcpu, r.MemoryMiBPerVcpu)) return false;
        // No GPU requirement means GPU types are not picked for CPU work; ask for gpus: {min: 1} to get them.
        if (r.Gpus is null ? t.Gpus > 0 : !InRange(t.Gpus, r.Gpus)) return false;
        if (r.GpuModels.Count > 0 && (t.GpuModel is null || !r.GpuModels.Contains(t.GpuModel, StringComparer.OrdinalIgnoreCase))) return false;
        return r.BareMetal switch
        {
            BareMetal.Excluded => !t.BareMetal,
            BareMetal.Required => t.BareMetal,
            _ => true,
        };
    }

    private static bool InRange(double v, Range<double>? range) =>
        range is null || ((range.Min is not { } min || v >= min) && (range.Max is not { } max || v <= max));

    private static bool InRange(long v, Range<long>? range) =>
        range is null || ((range.Min is not { } min || v >= min) && (range.Max is not { } max || v <= max));

    private static bool InRange(int v, Range<int>? range) =>
        range is null || ((range.Min is not { } min || v >= min) && (range.Max is not { } max || v <= max));

    private static IEnumerable<InstanceType> BuildDefault()
    {
        // Sizes and their vCPU counts as EC2 names them; prices are us-east-1 on-demand Linux list prices
        // of the 6th-generation Intel types (c6i/m6i/r6i), which scale linearly with size.
        (string Size, int Vcpu)[] sizes =
        [
            ("large", 2), ("xlarge", 4), ("2xlarge", 8), ("4xlarge", 16), ("8xlarge", 32),
            ("12xlarge", 48), ("16xlarge", 64), ("24xlarge", 96),
        ];
        (string Family, string Generation, int MiBPerVcpu, decimal PricePerVcpu)[] families =
        [
            ("c", "c6i", 2048, 0.0425m), ("m", "m6i", 4096, 0.048m), ("r", "r6i", 8192, 0.063m),
        ];
        var launch = TimeSpan.FromSeconds(90);
        foreach (var f in families)
        {
            foreach (var s in sizes)
            {
                yield return new InstanceType($"{f.Generation}.{s.Size}", f.Family, s.Vcpu, (long)s.Vcpu * f.MiBPerVcpu,
                    0, null, false, f.PricePerVcpu * s.Vcpu, launch);
            }
            yield return new InstanceType($"{f.Generation}.metal", f.Family, 128, 128L * f.MiBPerVcpu,
                0, null, true, f.PricePerVcpu * 128, TimeSpan.FromMinutes(5));
        }
        // The 5th generation, which many existing scenarios and the ECS documentation name (m5.2xlarge ...).
        // c5 has 9xlarge and 18xlarge where the others have 8xlarge and 16xlarge.
        (string Size, int Vcpu)[] c5Sizes =
        [
            ("large", 2), ("xlarge", 4), ("2xlarge", 8), ("4xlarge", 16), ("9xlarge", 36),
            ("12xlarge", 48), ("18xlarge", 72), ("24xlarge", 96),
        ];
        (string Family, string Generation, int MiBPerVcpu, decimal PricePerVcpu, (string Size, int Vcpu)[] Sizes)[] fifth =
        [
            ("c", "c5", 2048, 0.0425m, c5Sizes), ("m", "m5", 4096, 0.048m, sizes), ("r", "r5", 8192, 0.063m, sizes),
        ];
        foreach (var f in fifth)
        {
            foreach (var s in f.Sizes)
            {
                yield return new InstanceType($"{f.Generation}.{s.Size}", f.Family, s.Vcpu, (long)s.Vcpu * f.MiBPerVcpu,
                    0, null, false, f.PricePerVcpu * s.Vcpu, launch);
            }
        }
        var gpuLaunch = TimeSpan.FromMinutes(3);
        yield return new InstanceType("g4dn.xlarge", "g", 4, 16_384, 1, "T4", false, 0.526m, gpuLaunch);
        yield return new InstanceType("g4dn.12xlarge", "g", 48, 196_608, 4, "T4", false, 3.912m, gpuLaunch);
        yield return new InstanceType("g5.xlarge", "g", 4, 16_384, 1, "A10G", false, 1.006m, gpuLaunch);
        yield return new InstanceType("g5.2xlarge", "g", 8, 32_768, 1, "A10G", false, 1.212m, gpuLaunch);
        yield return new InstanceType("g5.12xlarge", "g", 48, 196_608, 4, "A10G", false, 5.672m, gpuLaunch);
        yield return new InstanceType("g5.48xlarge", "g", 192, 786_432, 8, "A10G", false, 16.288m, gpuLaunch);
        yield return new InstanceType("p4d.24xlarge", "p", 96, 1_179_648, 8, "A100", false, 32.773m, gpuLaunch);
    }
}
