using System.CommandLine;
using System.Text.Json;
using Scheduler.Core.Scenarios;
using Spectre.Console;

namespace Scheduler.Client.Live;

/// <summary><c>loadtest SCENARIO --endpoint URL --rate N --duration D ...</c>: drives a running <c>serve</c> open-loop and reports like k6.</summary>
public static class LoadTestCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var scenarioArg = new Argument<string>("scenario") { Description = "The scenario serve runs: its accounts' credentials, clusters and task definitions." };
        var endpointOption = new Option<string>("--endpoint") { Description = "The live API, e.g. http://127.0.0.1:4566.", Required = true };
        var rateOption = new Option<double>("--rate") { Description = "Requests started per second (open loop).", DefaultValueFactory = _ => 100 };
        var durationOption = new Option<string>("--duration") { Description = "How long to send, e.g. 60s or 10m.", DefaultValueFactory = _ => "60s" };
        var accountsOption = new Option<int>("--accounts") { Description = "Accounts to spread the calls over (those with credentials, in file order).", DefaultValueFactory = _ => 100 };
        var shareOption = new Option<double>("--run-task-share") { Description = "Fraction of calls that are RunTask; the rest are Describe/List.", DefaultValueFactory = _ => 0.05 };
        var countOption = new Option<int>("--run-task-count") { Description = "Tasks per RunTask call.", DefaultValueFactory = _ => 10 };
        var intervalOption = new Option<string>("--interval") { Description = "How often to print the figures so far.", DefaultValueFactory = _ => "60s" };
        var pidOption = new Option<int?>("--server-pid") { Description = "The serve process, whose working set each report shows." };
        var outOption = new Option<string?>("--out") { Description = "Write every interval's figures and the total as JSON to this file." };
        var command = new Command("loadtest", "Drive a running serve at a fixed request rate across many accounts; report latency p50/p95/p99, throttles and errors.")
        {
            scenarioArg, endpointOption, rateOption, durationOption, accountsOption, shareOption, countOption, intervalOption, pidOption, outOption,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var problems = new List<string>();
            var loaded = ScenarioLoader.Load(parse.GetValue(scenarioArg)!);
            if (!loaded.Ok)
            {
                problems.AddRange(loaded.Errors.Select(e => e.ToString()));
            }
            if (!Uri.TryCreate(parse.GetValue(endpointOption), UriKind.Absolute, out var endpoint) || endpoint.Scheme != "http")
            {
                problems.Add($"--endpoint '{parse.GetValue(endpointOption)}' is not an http:// URL");
            }
            if (!Duration.TryParse(parse.GetValue(durationOption), out var duration) || duration <= TimeSpan.Zero)
            {
                problems.Add($"--duration '{parse.GetValue(durationOption)}' is not a positive duration (e.g. 60s, 10m)");
            }
            if (!Duration.TryParse(parse.GetValue(intervalOption), out var interval) || interval < TimeSpan.FromSeconds(1))
            {
                problems.Add($"--interval '{parse.GetValue(intervalOption)}' must be a duration of at least 1s");
            }
            var rate = parse.GetValue(rateOption);
            if (rate is <= 0 or > 100_000)
            {
                problems.Add("--rate must be above 0 and at most 100000");
            }
            var share = parse.GetValue(shareOption);
            if (share is < 0 or > 1)
            {
                problems.Add("--run-task-share must be between 0 and 1");
            }
            var count = parse.GetValue(countOption);
            if (count is < 1 or > 10)
            {
                problems.Add("--run-task-count must be between 1 and 10");
            }
            if (parse.GetValue(accountsOption) < 1)
            {
                problems.Add("--accounts must be at least 1");
            }
            var options = problems.Count > 0 ? null : new LoadTestOptions(endpoint!, rate, duration, parse.GetValue(accountsOption), share, count, interval,
                ServerPid: parse.GetValue(pidOption));
            var (test, problem) = options is null ? (null, null) : LoadTest.Create(loaded.Scenario!, options);
            if (problem is not null)
            {
                problems.Add(problem);
            }
            if (problems.Count > 0 || test is null)
            {
                foreach (var p in problems)
                {
                    console.Write(new Text("error: ", new Style(Color.Red)));
                    console.WriteLine(p);
                }
                return Cli.BadInput;
            }
            console.WriteLine($"loadtest: {rate:0.##} requests/s for {Duration.Format(duration)} over {test.AccountCount} account(s), {share:P0} RunTask (count {count}), to {endpoint}");
            var intervals = new List<LoadFigures>();
            var started = DateTime.UtcNow;
            var total = await test.RunAsync(f =>
            {
                intervals.Add(f);
                console.WriteLine($"[{(DateTime.UtcNow - started).TotalSeconds,6:0}s] {f.Requests / Math.Max(f.Seconds, 1e-9),8:0.0} req/s  p50 {f.P50,7:0.00} ms  p95 {f.P95,7:0.00} ms  p99 {f.P99,7:0.00} ms  max {f.Max,8:0.0} ms  throttled {f.Throttled,6}  errors {f.Errors,4}  late {f.Late,5}"
                    + (f.ServerWorkingSetBytes is { } ws ? $"  server working set {ws >> 20} MiB" : "")
                    + (f.ErrorTypes.Count > 0 ? "  " + string.Join(", ", f.ErrorTypes.Select(kv => $"{kv.Key} x{kv.Value}")) : ""));
            }, cancellation);
            console.WriteLine("");
            console.WriteLine($"     http_reqs......................: {total.Requests,9}  {total.Requests / total.Seconds:0.0}/s");
            console.WriteLine($"     http_req_duration..............: avg={total.Avg:0.00}ms med={total.P50:0.00}ms p(95)={total.P95:0.00}ms p(99)={total.P99:0.00}ms max={total.Max:0.00}ms");
            console.WriteLine($"     http_req_ok....................: {total.Ok,9}  {(double)total.Ok / Math.Max(1, total.Requests):P2}");
            console.WriteLine($"     throttled (ThrottlingException): {total.Throttled,9}  {(double)total.Throttled / Math.Max(1, total.Requests):P2}");
            console.WriteLine($"     errors.........................: {total.Errors,9}{(total.ErrorTypes.Count > 0 ? "  " + string.Join(", ", total.ErrorTypes.Select(kv => $"{kv.Key} x{kv.Value}")) : "")}");
            console.WriteLine($"     late starts (generator behind).: {total.Late,9}");
            var operations = test.ByOperation();
            foreach (var (op, f) in operations)
            {
                console.WriteLine($"     {op,-31} {f.Requests,9}  p50 {f.P50:0.00} ms  p95 {f.P95:0.00} ms  p99 {f.P99:0.00} ms  max {f.Max:0.0} ms");
            }
            if (parse.GetValue(outOption) is { } outFile)
            {
                await File.WriteAllTextAsync(outFile, JsonSerializer.Serialize(new { options = new { rate, duration = duration.TotalSeconds, accounts = test.AccountCount, share, count }, intervals, total, operations },
                    SimulationRun.SummaryJson) + "\n", CancellationToken.None);
            }
            return total.Errors > 0 ? Cli.Failed : Cli.Ok;
        });
        return command;
    }
}
