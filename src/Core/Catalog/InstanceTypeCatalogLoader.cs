using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Catalog;

/// <summary>The outcome of loading an instance type catalog file: the catalog, or every error found.</summary>
public sealed class InstanceTypeCatalogLoadResult
{
    public InstanceTypeCatalogLoadResult(InstanceTypeCatalog? catalog, IReadOnlyList<ScenarioError> errors, int? errorCount = null)
    {
        Errors = errors;
        ErrorCount = Math.Max(errorCount ?? 0, errors.Count);
        Catalog = ErrorCount == 0 ? catalog : null;
    }

    public InstanceTypeCatalog? Catalog { get; }
    /// <summary>The first errors, in file order (as many as a command prints).</summary>
    public IReadOnlyList<ScenarioError> Errors { get; }
    /// <summary>Every error found, printed or not.</summary>
    public int ErrorCount { get; }
    public bool Ok => Catalog is not null;
}

/// <summary>
/// Reads an instance type catalog: a YAML or JSON list of
/// <c>{name, family, vcpu, memoryMiB, gpus, gpuModel, bareMetal, hourlyPrice, launchLatency}</c>.
/// name, vcpu and memoryMiB are required; family defaults to the letters the name starts with,
/// bareMetal to whether the name ends in <c>.metal</c>, launchLatency to 90s, gpus and hourlyPrice to 0.
/// </summary>
public static class InstanceTypeCatalogLoader
{
    private static readonly string[] Fields =
        ["name", "family", "vcpu", "memoryMiB", "gpus", "gpuModel", "bareMetal", "hourlyPrice", "launchLatency"];

    public static InstanceTypeCatalogLoadResult Load(string path, long maxBytes = 64L << 20, CancellationToken cancellation = default)
    {
        var read = ScenarioFiles.Read(path, maxBytes, cancellation);
        if (!read.Ok)
        {
            return new(null, [new ScenarioError(path, read.Line, read.Column, "",
                read.Kind == ScenarioTextProblem.BadText ? read.Problem! : $"cannot read the instance catalog: {read.Problem}")]);
        }
        return Parse(read.Text!, path);
    }

    public static InstanceTypeCatalogLoadResult Parse(string text, string fileName)
    {
        var ctx = new YamlContext(fileName);
        var root = ctx.LoadRoot(text);
        if (root is null)
        {
            return new(null, ctx.Errors.Sorted(), ctx.Errors.Count);
        }
        var items = ctx.Sequence(root, "");
        if (items is null)
        {
            return new(null, ctx.Errors.Sorted(), ctx.Errors.Count);
        }
        if (items.Count == 0)
        {
            ctx.Error(root, "", "the catalog lists no instance types");
        }
        var types = new List<InstanceType>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (node, path) in items)
        {
            var m = MapReader.Open(ctx, node, path, Fields);
            if (m is null)
            {
                continue;
            }
            var name = m.String("name", required: true);
            var family = m.String("family") ?? (name is null ? null : new string(name.TakeWhile(char.IsAsciiLetter).ToArray()));
            var vcpu = m.Int("vcpu", required: true, min: 1);
            var memory = m.Long("memoryMiB", required: true, min: 1);
            var gpus = m.Int("gpus", min: 0) ?? 0;
            var gpuModel = m.String("gpuModel");
            var bareMetal = m.Bool("bareMetal") ?? name?.EndsWith(".metal", StringComparison.Ordinal) ?? false;
            var price = m.Double("hourlyPrice", min: 0, max: 1e6) ?? 0;
            var latency = m.Duration("launchLatency") ?? TimeSpan.FromSeconds(90);
            if (name is not null && !seen.Add(name))
            {
                ctx.Error(m["name"]!, m.F("name"), $"instance type '{name}' is listed twice");
            }
            if (family is { Length: 0 })
            {
                ctx.Error(m.Node, m.F("family"), $"cannot tell the family of '{name}'; give family");
            }
            if (name is not null && family is { Length: > 0 } && vcpu is { } v && memory is { } mem)
            {
                types.Add(new InstanceType(name, family, v, mem, gpus, gpuModel, bareMetal, (decimal)price, latency));
            }
        }
        return ctx.Errors.Count == 0 ? new(new InstanceTypeCatalog(types), []) : new(null, ctx.Errors.Sorted(), ctx.Errors.Count);
    }
}
