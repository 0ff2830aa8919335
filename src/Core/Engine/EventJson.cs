using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Scheduler.Core.Engine;

/// <summary>Writes events as the one-object-per-line JSON of events.jsonl, fields in a fixed order.</summary>
public static class EventJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Simulated milliseconds as the seconds number of the <c>t</c> field (12, 12.5, 12.125).</summary>
    public static decimal Seconds(long ms) => ms / 1000m;

    public static void WriteLine(SimEvent e, IBufferWriter<byte> output)
    {
        using (var w = new Utf8JsonWriter(output, Options))
        {
            Write(e, w);
        }
        output.Write("\n"u8);
    }

    public static string ToJson(SimEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            Write(e, w);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(SimEvent e, Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteNumber("t", Seconds(e.TimeMs));
        w.WriteString("kind", e.Kind);
        w.WriteString("account", e.Account);
        w.WriteString("cluster", e.Cluster);
        switch (e.Kind)
        {
            case EventKinds.Task:
                w.WriteString("task", e.Task);
                w.WriteString("state", e.State);
                w.WriteString("health", e.Health);
                w.WriteString("service", e.Service);
                w.WriteString("startedBy", e.StartedBy);
                w.WriteString("capacityProvider", e.CapacityProvider);
                w.WriteString("instance", e.Instance);
                w.WriteString("zone", e.Zone);
                w.WriteString("reason", e.Reason);
                if (e.State == TaskStates.Provisioning)
                {
                    // Created: what it reserves, so utilisation can be computed from the log alone.
                    w.WriteNumber("cpu", e.Cpu);
                    w.WriteNumber("memory", e.MemoryMiB);
                }
                break;
            case EventKinds.Instance:
                w.WriteString("instance", e.Instance);
                w.WriteString("state", e.State);
                w.WriteString("instanceType", e.InstanceType);
                w.WriteString("zone", e.Zone);
                w.WriteString("ami", e.Ami);
                w.WriteString("capacityProvider", e.CapacityProvider);
                w.WriteString("reason", e.Reason);
                break;
            case EventKinds.Placement:
                w.WriteNumber("tick", e.Tick);
                w.WriteNumber("phase", e.Phase);
                w.WriteNumber("placed", e.Placed);
                w.WriteNumber("unplaced", e.Unplaced);
                w.WriteNumber("instancesRequested", e.InstancesRequested);
                if (e.Shard is { } shard)
                {
                    w.WriteNumber("shard", shard);
                    w.WriteNumber("retries", e.Retries);
                }
                break;
            case EventKinds.Conflict:
                w.WriteNumber("shard", e.Shard ?? 0);
                w.WriteString("task", e.Task);
                w.WriteString("instance", e.Instance);
                w.WriteString("reason", e.Reason);
                break;
            case EventKinds.Service:
                w.WriteString("service", e.Service);
                w.WriteNumber("desired", e.Desired);
                w.WriteNumber("running", e.Running);
                w.WriteNumber("healthy", e.Healthy);
                w.WriteString("deployment", e.Deployment);
                w.WriteNumber("backoffSeconds", e.BackoffSeconds);
                break;
            case EventKinds.Throttle:
                w.WriteString("bucket", e.Bucket);
                w.WriteNumber("requested", e.Requested);
                w.WriteNumber("granted", e.Granted);
                if (e.Tasks > 0)
                {
                    w.WriteNumber("tasks", e.Tasks);
                }
                break;
            case EventKinds.ApiError:
                w.WriteString("api", e.Api);
                w.WriteString("error", e.Error);
                w.WriteNumber("requested", e.Requested);
                w.WriteString("reason", e.Reason);
                break;
            case EventKinds.Job:
                w.WriteString("job", e.Job);
                w.WriteString("queue", e.Queue);
                w.WriteString("state", e.State);
                if (e.ArrayIndex is { } index)
                {
                    w.WriteNumber("arrayIndex", index);
                }
                else
                {
                    w.WriteNull("arrayIndex");
                }
                if (e.ArraySize is { } size)
                {
                    w.WriteNumber("arraySize", size);
                }
                else
                {
                    w.WriteNull("arraySize");
                }
                w.WriteNumber("attempt", e.Attempt);
                w.WriteString("task", e.Task);
                w.WriteString("reason", e.Reason);
                break;
            case EventKinds.Oom:
                w.WriteString("task", e.Task);
                w.WriteString("container", e.Container);
                w.WriteString("scope", e.Scope);
                w.WriteString("instance", e.Instance);
                break;
        }
        w.WriteEndObject();
    }
}
