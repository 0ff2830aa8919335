using System.Globalization;
using Scheduler.Core.Scenarios;

namespace Scheduler.Core.Workloads;

/// <summary>One pod of the Alibaba "openb" trace. Times are seconds from the start of the trace.</summary>
public sealed record TracePod(
    string Name, int Line, long CpuMilli, long MemoryMiB, int NumGpu, int GpuMilli, IReadOnlyList<string> GpuSpec,
    string Qos, string Phase, long CreationTime, long DeletionTime, long? ScheduledTime);

/// <summary>One node of the trace's cluster; <see cref="Model"/> is null for nodes without GPUs.</summary>
public sealed record TraceNode(string Name, int Line, long CpuMilli, long MemoryMiB, int Gpus, string? Model);

/// <summary>
/// Reads the two CSV files of the Alibaba GPU-cluster trace 2023 ("openb"): the pod list
/// (name, cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec, qos, pod_phase, creation_time, deletion_time,
/// scheduled_time) and the node list (sn, cpu_milli, memory_mib, gpu, model). Columns are found by header
/// name; a bad cell is reported with file, line, column and column name, never thrown.
/// </summary>
public static class AlibabaOpenbTrace
{
    public const string DefaultPodFile = "openb_pod_list_default.csv";
    public const string DefaultNodeFile = "openb_node_list_all_node.csv";

    private static readonly string[] PodColumns =
        ["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos", "pod_phase", "creation_time", "deletion_time", "scheduled_time"];
    private static readonly string[] NodeColumns = ["sn", "cpu_milli", "memory_mib", "gpu", "model"];

    public static IReadOnlyList<TracePod> ReadPods(string path, string text, List<ScenarioError> errors)
    {
        var pods = new List<TracePod>();
        foreach (var row in Rows(path, text, PodColumns, errors))
        {
            var name = row.Text("name");
            var cpu = row.Long("cpu_milli", 0);
            var memory = row.Long("memory_mib", 0);
            var gpus = row.Long("num_gpu", 0, 1024);
            var gpuMilli = row.Long("gpu_milli", 0, 1000);
            var creation = row.Long("creation_time", 0);
            var deletion = row.Long("deletion_time", 0);
            long? scheduled = row.Text("scheduled_time").Length == 0 ? null : row.Long("scheduled_time", 0);
            var spec = row.Text("gpu_spec").Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (name.Length == 0)
            {
                row.Error("name", "a pod needs a name");
            }
            if (creation is { } c && deletion is { } d && d < c)
            {
                row.Error("deletion_time", $"deletion_time {d} is before creation_time {c}");
            }
            if (row.Ok && cpu is { } cp && memory is { } m && gpus is { } g && gpuMilli is { } gm && creation is { } cr && deletion is { } de)
            {
                pods.Add(new TracePod(name, row.Line, cp, m, (int)g, (int)gm, spec, row.Text("qos"), row.Text("pod_phase"), cr, de,
                    scheduled));
            }
        }
        return pods;
    }

    public static IReadOnlyList<TraceNode> ReadNodes(string path, string text, List<ScenarioError> errors)
    {
        var nodes = new List<TraceNode>();
        foreach (var row in Rows(path, text, NodeColumns, errors))
        {
            var name = row.Text("sn");
            var cpu = row.Long("cpu_milli", 1);
            var memory = row.Long("memory_mib", 1);
            var gpus = row.Long("gpu", 0, 1024);
            var model = row.Text("model");
            if (row.Ok && cpu is { } c && memory is { } m && gpus is { } g)
            {
                nodes.Add(new TraceNode(name, row.Line, c, m, (int)g, model.Length == 0 ? null : model));
            }
        }
        return nodes;
    }

    private static IEnumerable<Row> Rows(string path, string text, string[] required, List<ScenarioError> errors)
    {
        using var reader = new StringReader(text);
        var header = reader.ReadLine();
        if (header is null)
        {
            errors.Add(new ScenarioError(path, 1, 1, "", "the file is empty (expected a CSV header)"));
            yield break;
        }
        var columns = header.Split(',').Select(h => h.Trim()).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Length; i++)
        {
            index.TryAdd(columns[i], i);
        }
        var missing = required.Where(r => !index.ContainsKey(r)).ToArray();
        if (missing.Length > 0)
        {
            errors.Add(new ScenarioError(path, 1, 1, "", $"missing column(s) {string.Join(", ", missing)}; the header must name {string.Join(",", required)}"));
            yield break;
        }
        var lineNumber = 1;
        var before = errors.Count;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Trim().Length == 0)
            {
                continue;
            }
            if (errors.Count - before >= ScenarioLoadResult.PrintedErrors)
            {
                // As many as are printed: a file of millions of bad lines costs no more than its first hundred.
                errors.Add(new ScenarioError(path, lineNumber, 1, "",
                    $"more than {ScenarioLoadResult.PrintedErrors} errors in this file; the lines from here on are not checked"));
                yield break;
            }
            var cells = line.Split(',');
            if (cells.Length != columns.Length)
            {
                errors.Add(new ScenarioError(path, lineNumber, 1, "", $"expected {columns.Length} comma-separated values, found {cells.Length}"));
                continue;
            }
            yield return new Row(path, lineNumber, line, cells, index, errors);
        }
    }

    private sealed class Row(string path, int line, string text, string[] cells, Dictionary<string, int> index, List<ScenarioError> errors)
    {
        public int Line { get; } = line;
        public bool Ok { get; private set; } = true;

        public string Text(string column) => cells[index[column]].Trim();

        public long? Long(string column, long min, long max = long.MaxValue)
        {
            var s = Text(column);
            if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            {
                Error(column, $"'{s}' is not a whole number");
                return null;
            }
            if (v < min || v > max)
            {
                Error(column, max == long.MaxValue ? $"{v} is out of range: must be at least {min}" : $"{v} is out of range: must be between {min} and {max}");
                return null;
            }
            return v;
        }

        public void Error(string column, string message)
        {
            Ok = false;
            errors.Add(new ScenarioError(path, Line, Column(column), column, message));
        }

        /// <summary>1-based character column where the cell starts.</summary>
        private int Column(string column)
        {
            var target = index[column];
            var col = 1;
            for (var i = 0; i < target; i++)
            {
                col += cells[i].Length + 1;
            }
            return Math.Min(col, text.Length + 1);
        }
    }
}
