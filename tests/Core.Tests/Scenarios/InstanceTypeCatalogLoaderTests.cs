using Scheduler.Core.Catalog;

namespace Scheduler.Core.Tests.Scenarios;

public sealed class InstanceTypeCatalogLoaderTests
{
    [Fact]
    public void Reads_types_with_defaults()
    {
        var result = InstanceTypeCatalogLoader.Parse(Samples.Catalog, "catalog.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var catalog = result.Catalog!;
        Assert.Equal(5, catalog.Types.Count);
        Assert.Equal(new InstanceType("m5.2xlarge", "m", 8, 32768, 0, null, false, 0.384m, TimeSpan.FromMinutes(2)), catalog.Find("m5.2xlarge"));
        Assert.Equal(new InstanceType("r5.metal", "r", 96, 786432, 0, null, true, 6.048m, TimeSpan.FromSeconds(90)), catalog.Find("r5.metal"));
        Assert.Equal(new InstanceType("g4dn.xlarge", "g", 4, 16384, 1, "T4", false, 0.526m, TimeSpan.FromSeconds(90)), catalog.Find("g4dn.xlarge"));
    }

    [Fact]
    public void Reports_every_bad_entry()
    {
        var result = InstanceTypeCatalogLoader.Parse("""
            - { name: a.large, vcpu: 2 }
            - { name: b.large, vcpu: 2, memoryMiB: 4096, launchLatency: soon, bareMetal: maybe }
            - 7
            """, "types.yaml");
        Assert.False(result.Ok);
        Assert.Null(result.Catalog);
        Assert.Equal(
        [
            (1, 3, "[0].memoryMiB", "missing required field 'memoryMiB'"),
            (2, 61, "[1].launchLatency", "'soon' is not a duration (expected e.g. 90s, 15m, 2h, 14d, 500ms, 1h30m or a number of seconds)"),
            (2, 78, "[1].bareMetal", "expected true or false, found 'maybe'"),
            (3, 3, "[2]", "expected a mapping, found '7'"),
        ], result.Errors.Select(e => (e.Line, e.Column, e.Field, e.Message)));
        Assert.All(result.Errors, e => Assert.Equal("types.yaml", e.File));
    }

    [Fact]
    public void A_missing_file_is_an_error()
    {
        var result = InstanceTypeCatalogLoader.Load("/nonexistent/catalog.yaml");
        var error = Assert.Single(result.Errors);
        Assert.Equal(("/nonexistent/catalog.yaml", 1, 1), (error.File, error.Line, error.Column));
    }
}
