using System.Text.Json.Nodes;
using Scheduler.Client.Report;

namespace Scheduler.Client.Tests;

/// <summary>report.html opened in a real headless Chromium: it loads cleanly offline and every chart is drawn.</summary>
public sealed class ReportBrowserTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("scheduler-report-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task The_report_opens_without_console_errors_and_draws_every_chart()
    {
        var outDir = Path.Combine(_work, "q");
        var (exit, output) = await CliHarness.RunInProcess("simulate", RepoPaths.Of("scenarios/quickstart.yaml"), "--out", outDir, "--fail-if", "unplaceable>0");
        Assert.True(exit == 0, output);
        var report = Path.Combine(outDir, "report.html");
        var html = await File.ReadAllTextAsync(report);
        // Self-contained: nothing is fetched from anywhere.
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/", ""), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);

        await using var browser = await HeadlessChromium.StartAsync();
        await browser.OpenAsync(new Uri(report).AbsoluteUri);
        var ids = string.Join(",", RunReport.ChartIds.Select(id => $"'{id}'"));
        var charts = (await browser.EvaluateAsync($$"""
            [{{ids}}].map(id => {
              const svg = document.querySelector('#' + id + ' svg');
              const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
              const drawn = svg ? [...svg.querySelectorAll('path, line, rect, polyline, polygon')]
                  .filter(e => { const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length : 0;
              const labels = svg ? [...svg.querySelectorAll('text')].filter(t => t.getComputedTextLength() > 0).length : 0;
              return { id, width: box.width, height: box.height, drawn, labels };
            })
            """))!.AsArray();

        Assert.Equal(RunReport.ChartIds.Count, charts.Count);
        Assert.All(charts, c =>
        {
            var id = c!["id"]!.GetValue<string>();
            Assert.True(c["width"]!.GetValue<double>() > 400, $"{id} is {c["width"]} px wide");
            Assert.True(c["height"]!.GetValue<double>() > 150, $"{id} is {c["height"]} px high");
            Assert.True(c["drawn"]!.GetValue<int>() > 10, $"{id} has {c["drawn"]} drawn shapes");
            Assert.True(c["labels"]!.GetValue<int>() > 5, $"{id} has {c["labels"]} visible labels");
        });
        Assert.Equal("pass", (await browser.EvaluateAsync("document.querySelector('#thresholds td.pass')?.textContent"))?.GetValue<string>());
        Assert.Empty(browser.Problems);

        // The same browser does see a page's errors: the check above could have failed.
        var broken = Path.Combine(_work, "broken.html");
        await File.WriteAllTextAsync(broken, "<!DOCTYPE html><html><body><script>console.error('drawn wrong'); undefinedFunction();</script></body></html>");
        await browser.OpenAsync(new Uri(broken).AbsoluteUri);
        Assert.Contains(browser.Problems, p => p.Contains("drawn wrong"));
        Assert.Contains(browser.Problems, p => p.Contains("undefinedFunction"));
    }
}
