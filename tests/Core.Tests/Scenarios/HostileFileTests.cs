using System.Diagnostics;
using System.Text;
using Scheduler.Core.Scenarios;
using static Scheduler.TestSupport.TestScenarios;

namespace Scheduler.Core.Tests.Scenarios;

/// <summary>
/// Files written to break the loader, beyond the size bounds of <see cref="ScenarioLimitsTests"/>: files that are not
/// files (a named pipe, a device, a sparse file of gigabytes), text that is not UTF-8 or holds control characters,
/// values of megabytes, sums that overflow, lists the model cannot use at that length, and a load that is
/// interrupted. Each is one clear error (or an <see cref="OperationCanceledException"/>), never an exception of the loader.
/// Time and memory are bounded by construction: each file trips a bound before the costly part, and the bounds are what is asserted.
/// </summary>
public sealed class HostileFileTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private const string TaskDefinition = "{ family: t, cpu: 256, memory: 512, containers: [ { name: a, image: i, cpu: 256, memory: 512 } ] }";

    /// <summary>One account, one Fargate cluster with task definition t; <paramref name="extra"/> goes into the cluster.</summary>
    private static string Scenario(string extra = "", string top = "", string timeline = "") => $"""
        name: hostile
        duration: 1h
        {top}
        accounts:
          - id: a
            clusters:
              - name: c
                capacityProviders: [ {"{"} name: f, type: FARGATE {"}"} ]
                taskDefinitions: [ {TaskDefinition} ]
        {extra}
        {(timeline.Length > 0 ? "timeline:\n" + timeline : "")}
        """;

    [Fact]
    public void The_test_scenario_is_valid()
    {
        var result = ScenarioLoader.Parse(Scenario(), "ok.yaml");
        Assert.True(result.Ok, string.Join("\n", result.Errors));
    }

    private string MakeFifo(string name)
    {
        var path = Path.Combine(_folder.Path, name);
        using var mkfifo = Process.Start("mkfifo", [path])!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    [Fact]
    public void A_named_pipe_is_refused_without_waiting_for_a_writer()
    {
        Assert.True(OperatingSystem.IsLinux(), "named pipes are checked on Linux, where the tests run");
        // Opening a FIFO for reading blocks until a writer opens it: a load that got that far would never return.
        var fifo = MakeFifo("pipe.yaml");
        var error = OnlyError(ScenarioLoader.Load(fifo));
        Assert.Contains("named pipe (FIFO), not a regular file", error.Message);

        // The same for the files a scenario names: an instance catalog, an imported task definition, trace CSVs.
        MakeFifo("types.yaml");
        MakeFifo("td.json");
        var catalog = ScenarioLoader.Load(_folder.Write("cat.yaml", Scenario(top: "instanceCatalog: types.yaml")));
        Assert.Contains(catalog.Errors, e => e.Message.Contains("named pipe"));
        var import = ScenarioLoader.Load(_folder.Write("imp.yaml", Scenario().Replace(TaskDefinition, "{ import: td.json }", StringComparison.Ordinal)));
        Assert.Contains("named pipe", OnlyError(import).Message);
    }

    [Fact]
    public void A_device_is_refused_instead_of_being_read_until_memory_runs_out()
    {
        Assert.True(OperatingSystem.IsLinux(), "devices are checked on Linux, where the tests run");
        Assert.Contains("character device", OnlyError(ScenarioLoader.Load("/dev/zero")).Message);
        var import = ScenarioLoader.Load(_folder.Write("imp.yaml", Scenario().Replace(TaskDefinition, "{ import: /dev/zero }", StringComparison.Ordinal)));
        Assert.Contains("cannot read task definition '/dev/zero': this is a character device", OnlyError(import).Message);
        var catalog = ScenarioLoader.Load(_folder.Write("cat.yaml", Scenario(top: "instanceCatalog: /dev/urandom")));
        Assert.Contains(catalog.Errors, e => e.Message.Contains("character device"));
        var trace = ScenarioLoader.Load(_folder.Write("trace.yaml", "name: t\ngenerators:\n  - traceReplay: { path: /dev, pods: zero, nodes: zero }\n"));
        Assert.Contains(trace.Errors, e => e.Message.Contains("cannot read trace file '/dev/zero': this is a character device"));
    }

    [Fact]
    public void A_sparse_file_of_two_gibibytes_is_refused_by_its_length_before_a_byte_is_read()
    {
        var path = Path.Combine(_folder.Path, "sparse.yaml");
        using (var file = File.Create(path))
        {
            file.SetLength(2L << 30);
        }
        var error = OnlyError(ScenarioLoader.Load(path));
        Assert.Contains("larger than a scenario may be", error.Message);
        Assert.Contains("--limit bytes=N", error.Message);
        // The check is on the length: a bound of a few bytes refuses a small file the same way.
        Assert.Contains("--limit bytes=N", OnlyError(ScenarioLoader.Load(_folder.Write("s.yaml", Scenario()), ScenarioLimits.Default with { Bytes = 10 })).Message);
    }

    [Fact]
    public void A_loop_of_symbolic_links_is_a_plain_error()
    {
        var a = Path.Combine(_folder.Path, "a.yaml");
        var b = Path.Combine(_folder.Path, "b.yaml");
        File.CreateSymbolicLink(a, b);
        File.CreateSymbolicLink(b, a);
        Assert.StartsWith("cannot read the scenario:", OnlyError(ScenarioLoader.Load(a)).Message);
    }

    private string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(_folder.Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Text_with_a_byte_order_mark_loads_in_utf8_utf16_and_utf32()
    {
        var text = Scenario();
        foreach (var (name, encoding) in new (string, Encoding)[]
                 {
                     ("utf8.yaml", new UTF8Encoding(true)), ("utf16le.yaml", new UnicodeEncoding(false, true)),
                     ("utf16be.yaml", new UnicodeEncoding(true, true)), ("utf32.yaml", new UTF32Encoding(false, true)),
                 })
        {
            var result = ScenarioLoader.Load(WriteBytes(name, [.. encoding.GetPreamble(), .. encoding.GetBytes(text)]));
            Assert.True(result.Ok, name + ": " + string.Join("\n", result.Errors));
            Assert.Equal("hostile", result.Scenario!.Name);
        }
    }

    [Fact]
    public void Invalid_utf8_is_reported_at_its_line_and_column_instead_of_being_replaced()
    {
        var bytes = Encoding.UTF8.GetBytes("name: x\nseed: 1\naccounts: [ { id: ab").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes(" } ]\n")).ToArray();
        var error = OnlyError(ScenarioLoader.Load(WriteBytes("bad.yaml", bytes)));
        Assert.Equal((3, 21), (error.Line, error.Column));
        Assert.Contains("not valid UTF-8", error.Message);
    }

    [Fact]
    public void Utf16_without_a_byte_order_mark_is_named_as_the_likely_cause()
    {
        var error = OnlyError(ScenarioLoader.Load(WriteBytes("u16.yaml", Encoding.Unicode.GetBytes(Scenario()))));
        Assert.Equal((1, 2), (error.Line, error.Column));
        Assert.Contains("control character U+0000", error.Message);
        Assert.Contains("UTF-16 needs its byte order mark", error.Message);
    }

    [Theory]
    [InlineData("\u001b[31m", "U+001B")]
    [InlineData("\u0007", "U+0007")]
    [InlineData("\u0085\u009b", "U+009B")]
    public void A_control_character_in_the_file_is_an_error_at_its_place(string control, string code)
    {
        var error = OnlyError(ScenarioLoader.Load(_folder.Write("c.yaml", Scenario().Replace("name: hostile", "name: host" + control + "ile", StringComparison.Ordinal))));
        Assert.Equal(1, error.Line);
        Assert.Equal(11 + control.IndexOf(code == "U+009B" ? '\u009b' : control[0], StringComparison.Ordinal), error.Column);
        Assert.Contains(code, error.Message);
    }

    [Fact]
    public void An_escaped_control_character_in_a_quoted_value_is_refused_in_the_value()
    {
        var error = OnlyError(ScenarioLoader.Parse(Scenario().Replace("name: hostile", "name: \"a\\0b\\e[2J\"", StringComparison.Ordinal), "q.yaml"));
        Assert.Equal("name", error.Field);
        Assert.Contains("control character U+0000 is not allowed in a value", error.Message);
    }

    [Fact]
    public void Tabs_and_crlf_and_a_lone_cr_still_load()
    {
        Assert.True(ScenarioLoader.Parse(Scenario().ReplaceLineEndings("\r\n"), "crlf.yaml").Ok);
        Assert.True(ScenarioLoader.Parse(Scenario().ReplaceLineEndings("\r"), "cr.yaml").Ok);
        // JSON may use tabs as whitespace.
        Assert.True(ScenarioLoader.Parse("{\n\t\"name\": \"t\",\n\t\"accounts\": [ { \"id\": \"a\", \"clusters\": [] } ]\n}", "t.json").Ok);
        var tab = OnlyError(ScenarioLoader.Parse("name: t\naccounts:\n\t- id: a\n", "tab.yaml"));
        Assert.Equal((3, 1), (tab.Line, tab.Column));
    }

    [Fact]
    public void A_value_of_megabytes_stops_at_the_length_bound_and_the_bound_can_be_raised()
    {
        var huge = new string('x', 200_000);
        var text = Scenario(timeline: $"  - {{ at: 1m, runTask: {{ account: a, cluster: c, taskDefinition: {huge}, count: 1 }} }}\n");
        var error = OnlyError(ScenarioLoader.Parse(text, "long.yaml"));
        Assert.Contains("a value of 200,000 characters is longer than a value may be (limit 65,536; raise it with --limit length=N)", error.Message);
        // Raised, the value is an ordinary unknown reference, and its message quotes the start and the end of the name only.
        var raised = OnlyError(ScenarioLoader.Parse(text, "long.yaml", ScenarioLimits.Default.With(["length=300000"], out _)));
        Assert.Contains("unknown task definition 'xxx", raised.Message);
        Assert.Contains("characters left out", raised.Message);
        Assert.InRange(raised.Message.Length, 100, ScenarioError.MaxLength + 100);
    }

    [Fact]
    public void Error_text_is_printable_and_short_whatever_it_quotes()
    {
        var e = new ScenarioError("f\u001b.yaml", 1, 1, new string('k', 5000), "bad '\u0000' and '" + new string('v', 1_000_000) + "' (did you mean 'w'?)");
        Assert.Equal("f\\u001B.yaml", e.File);
        Assert.StartsWith("bad '\\u0000' and 'vvv", e.Message);
        Assert.EndsWith("' (did you mean 'w'?)", e.Message);
        Assert.True(e.Message.Length < ScenarioError.MaxLength + 100);
        Assert.True(e.Field.Length < ScenarioError.MaxLength + 100);
        Assert.DoesNotContain(e.ToString(), char.IsControl);
    }

    [Fact]
    public void A_long_scenario_name_is_refused_because_it_names_the_output_folder()
    {
        var error = OnlyError(ScenarioLoader.Parse(Scenario().Replace("name: hostile", "name: " + new string('n', 256), StringComparison.Ordinal), "n.yaml"));
        Assert.Equal("name", error.Field);
        Assert.Contains("at most 255", error.Message);
        Assert.True(ScenarioLoader.Parse(Scenario().Replace("name: hostile", "name: " + new string('n', 255), StringComparison.Ordinal), "n.yaml").Ok);
    }

    [Fact]
    public void Container_sizes_that_add_up_past_what_a_number_holds_are_an_error_not_an_overflow()
    {
        var containers = string.Join(", ", Enumerable.Range(0, 3).Select(i => $"{{ name: c{i}, image: i, cpu: 2147483647, memory: 2147483647, gpus: 2147483647 }}"));
        var text = Scenario().Replace(TaskDefinition, $"{{ family: t, containers: [ {containers} ] }}", StringComparison.Ordinal)
            .Replace("type: FARGATE", "type: EC2, instanceTypes: [m5.large]", StringComparison.Ordinal);
        var result = ScenarioLoader.Parse(text, "sum.yaml");
        Assert.False(result.Ok);
        Assert.Contains(result.Errors, e => e.Message.Contains("6,442,450,941 cpu units together, more than a task can have"));
        Assert.Contains(result.Errors, e => e.Message.Contains("MiB of memory together"));
        Assert.Contains(result.Errors, e => e.Message.Contains("GPUs together"));
    }

    [Fact]
    public void A_number_too_large_for_its_field_says_so()
    {
        var error = OnlyError(ScenarioLoader.Parse(Scenario(top: "seed: 99999999999999999999999"), "n.yaml"));
        Assert.Contains("99999999999999999999999 is out of range: must be at most 9223372036854775807", error.Message);
        Assert.Contains("is not a whole number", OnlyError(ScenarioLoader.Parse(Scenario(top: "seed: 1e400"), "n.yaml")).Message);
    }

    /// <summary>The test scenario with <paramref name="list"/> holding <paramref name="n"/> items (the rest of it valid).</summary>
    private static string WithList(string list, int n)
    {
        var items = Enumerable.Range(0, n).ToArray();
        return list switch
        {
            "zones" => Scenario().Replace("- name: c\n", $"- name: c\n        zones: [ {string.Join(", ", items.Select(i => $"z{i}"))} ]\n", StringComparison.Ordinal),
            "containers" => Scenario().Replace(TaskDefinition,
                $"{{ family: t, cpu: 4096, memory: 8192, containers: [ {string.Join(", ", items.Select(i => $"{{ name: c{i}, image: i, cpu: 1, memory: 8 }}"))} ] }}",
                StringComparison.Ordinal),
            "placementConstraints" => Scenario().Replace("memory: 512, containers",
                $"memory: 512, placementConstraints: [ {string.Join(", ", items.Select(_ => "{ type: distinctInstance }"))} ], containers", StringComparison.Ordinal),
            "capacityProviderStrategy" => Scenario(extra:
                $"        services: [ {{ name: s, taskDefinition: t, desiredCount: 1, capacityProviderStrategy: [ {string.Join(", ", items.Select(_ => "{ capacityProvider: f }"))} ] }} ]"),
            _ => Scenario(extra: "        jobQueues: [ { name: q } ]", timeline:
                "  - { at: 0s, submitJob: { account: a, cluster: c, jobQueue: q, taskDefinition: t, runTime: 1m, name: j } }\n"
                + $"  - {{ at: 1s, submitJob: {{ account: a, cluster: c, jobQueue: q, taskDefinition: t, runTime: 1m, dependsOn: [ {string.Join(", ", items.Select(_ => "j"))} ] }} }}\n"),
        };
    }

    [Theory]
    [InlineData("zones", 26, "a cluster spans at most 26")]
    [InlineData("containers", 10, "at most 10 are allowed here")]
    [InlineData("placementConstraints", 10, "at most 10 are allowed here")]
    [InlineData("capacityProviderStrategy", 20, "at most 20 are allowed here")]
    [InlineData("dependsOn", 20, "at most 20 are allowed here")]
    public void Lists_past_the_models_bounds_are_refused_before_they_are_walked(string list, int bound, string message)
    {
        // A hundred thousand zones or containers would be walked pairwise (for duplicates); one past the bound is refused unread.
        var result = ScenarioLoader.Parse(WithList(list, bound + 1), "list.yaml");
        Assert.False(result.Ok);
        Assert.Contains(result.Errors, e => e.Field.EndsWith(list, StringComparison.Ordinal) && e.Message.Contains(message));
        var within = ScenarioLoader.Parse(WithList(list, bound), "list.yaml");
        Assert.DoesNotContain(within.Errors, e => e.Message.Contains(message));
    }

    [Fact]
    public void Bursts_every_millisecond_for_a_year_are_refused_before_one_is_listed()
    {
        // 400 days of a burst of a million tasks every millisecond: 3.5e15 RunTask calls, counted, not made.
        var text = Scenario(top: "", timeline: "").Replace("duration: 1h", "duration: 400d", StringComparison.Ordinal)
            .Replace("memory: 512, containers", "memory: 512, runTime: 1m, containers", StringComparison.Ordinal)
            + "generators:\n  - arrivals: { account: a, cluster: c, taskDefinition: t, capacityProvider: f, process: bursts, every: 1ms, size: 1000000 }\n";
        var error = OnlyError(ScenarioLoader.Parse(text, "bursts.yaml"));
        Assert.Contains("would add 3,456,000,000,000,000 RunTask calls", error.Message);
        Assert.Contains("--limit timeline=N", error.Message);
        // Within the bound, the same bursts load, and make as many calls as were counted.
        var small = ScenarioLoader.Parse(text.Replace("every: 1ms, size: 1000000", "every: 1h, size: 25", StringComparison.Ordinal), "bursts.yaml");
        Assert.True(small.Ok, string.Join("\n", small.Errors));
        Assert.Equal(400 * 24 * 3, small.Scenario!.Timeline.Count);
    }

    [Fact]
    public void Job_queues_count_as_entities_and_array_jobs_as_tasks()
    {
        var queues = Scenario(extra: "        jobQueues: [ { name: q1 }, { name: q2 }, { name: q3 } ]");
        // account, cluster, provider, task definition and three queues: 7 entities.
        Assert.True(ScenarioLoader.Parse(queues, "q.yaml", ScenarioLimits.Default with { Entities = 7 }).Ok);
        Assert.Contains("services and job queues", OnlyError(ScenarioLoader.Parse(queues, "q.yaml", ScenarioLimits.Default with { Entities = 6 })).Message);

        var jobs = Scenario(extra: "        jobQueues: [ { name: q } ]", timeline:
            "  - { at: 0s, submitJob: { account: a, cluster: c, jobQueue: q, taskDefinition: t, runTime: 1m, arraySize: 10000, retryStrategy: { attempts: 3 } } }\n"
            + "  - { at: 0s, submitJob: { account: a, cluster: c, jobQueue: q, taskDefinition: t, runTime: 1m } }\n");
        Assert.True(ScenarioLoader.Parse(jobs, "j.yaml", ScenarioLimits.Default with { Tasks = 30_001 }).Ok);
        var error = OnlyError(ScenarioLoader.Parse(jobs, "j.yaml", ScenarioLimits.Default with { Tasks = 30_000 }));
        Assert.Contains("30,001 for batch jobs and their retries", error.Message);
        Assert.Contains("--limit tasks=N", error.Message);
    }

    [Fact]
    public void Instances_registered_at_the_start_are_bounded()
    {
        var text = Scenario().Replace("{ name: f, type: FARGATE }",
            "{ name: e, type: EXTERNAL, instances: [ { vcpu: 2, memoryMiB: 8192, count: 2000000000 } ] }, { name: f, type: EC2, instanceTypes: [m5.large], initialInstances: 5, maxInstances: 2000000000 }",
            StringComparison.Ordinal);
        var error = OnlyError(ScenarioLoader.Parse(text, "i.yaml"));
        Assert.Contains("registers 2,000,000,005 instances at the start", error.Message);
        Assert.Contains("--limit instances=N", error.Message);
        Assert.True(ScenarioLoader.Parse(text.Replace("2000000000 } ]", "95 } ]", StringComparison.Ordinal), "i.yaml", ScenarioLimits.Default with { Instances = 100 }).Ok);
        Assert.False(ScenarioLoader.Parse(text.Replace("2000000000 } ]", "96 } ]", StringComparison.Ordinal), "i.yaml", ScenarioLimits.Default with { Instances = 100 }).Ok);
    }

    [Fact]
    public void Suggestions_are_made_only_for_errors_that_are_printed_and_among_few_names()
    {
        // 150 references to a misspelt account: the first hundred errors suggest the name, the rest do not look.
        var text = Scenario(timeline: string.Concat(Enumerable.Range(0, 150).Select(i => $"  - {{ at: {i + 1}s, runTask: {{ account: aa, cluster: c, taskDefinition: t }} }}\n")));
        var loaded = ScenarioLoader.Parse(text, "s.yaml");
        Assert.Equal(150, loaded.ErrorCount);
        // Only the printed ones are kept, and every one of them has its suggestion.
        Assert.Equal(ScenarioLoadResult.PrintedErrors, loaded.Errors.Count);
        Assert.All(loaded.Errors, e => Assert.EndsWith("(did you mean 'a'?)", e.Message, StringComparison.Ordinal));

        // Among more than a hundred names no suggestion is looked for, however close one is.
        var many = string.Concat(Enumerable.Range(0, 101).Select(i => $"\n  - {{ id: acct{i:D3}, clusters: [] }}"));
        var fleet = ScenarioLoader.Parse($"name: f\naccounts:{many}\ntimeline:\n  - {{ at: 1s, releaseAmi: {{ version: v }} }}\n  - {{ at: 1s, updateService: {{ account: acct1000, cluster: c, service: s, desiredCount: 1 }} }}\n", "f.yaml");
        Assert.DoesNotContain("did you mean", Assert.Single(fleet.Errors).Message);
    }

    [Fact]
    public void A_cancelled_load_stops_with_operation_cancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var services = string.Concat(Enumerable.Range(0, 5_000).Select(i => $"          - {{ name: s{i}, taskDefinition: t, desiredCount: 1 }}\n"));
        var text = Scenario(extra: "        services:\n" + services);
        Assert.True(ScenarioLoader.Parse(text, "big.yaml").Ok);
        Assert.ThrowsAny<OperationCanceledException>(() => ScenarioLoader.Parse(text, "big.yaml", cancellation: cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => ScenarioLoader.Load(_folder.Write("big.yaml", text), cancellation: cancelled.Token));
    }

    [Fact]
    public void A_duplicate_key_is_an_error_at_the_second_key()
    {
        var error = OnlyError(ScenarioLoader.Parse("name: a\nseed: 1\nname: b\n", "dup.yaml"));
        Assert.Equal(3, error.Line);
        Assert.Contains("duplicate key name", error.Message);
    }
}
