using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;

namespace Scheduler.Client.Tests;

/// <summary>
/// A minimal OTLP/HTTP receiver on 127.0.0.1 for the tests: it accepts protobuf posts to /v1/metrics and
/// /v1/traces and keeps their bodies; <see cref="Otlp"/> decodes the parts the tests look at.
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly List<(string Path, byte[] Body)> _requests = [];

    public OtlpReceiver()
    {
        Port = TestPorts.Free();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<(string Path, byte[] Body)> Requests
    {
        get
        {
            lock (_requests)
            {
                return _requests.ToList();
            }
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            using var body = new MemoryStream();
            Stream input = context.Request.InputStream;
            if (context.Request.Headers["Content-Encoding"] == "gzip")
            {
                input = new GZipStream(input, CompressionMode.Decompress);
            }
            await input.CopyToAsync(body);
            lock (_requests)
            {
                _requests.Add((context.Request.Url!.AbsolutePath, body.ToArray()));
            }
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}

/// <summary>
/// Reads OTLP's protobuf messages field by field (the wire format, with Google.Protobuf's reader), for the few
/// fields the tests need: resource attributes, scope names, metric names, span names and ids.
/// </summary>
public static class Otlp
{
    public sealed record Span(string Scope, string Name, string TraceId, string SpanId, string ParentId);

    /// <summary>The length-delimited fields of a message, as (field number, bytes); other wire types are skipped.</summary>
    public static IEnumerable<(int Field, byte[] Bytes)> Fields(byte[] message)
    {
        var input = new CodedInputStream(message);
        var fields = new List<(int, byte[])>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var field = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.LengthDelimited:
                    fields.Add((field, input.ReadBytes().ToByteArray()));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return fields;
    }

    private static IEnumerable<byte[]> Field(byte[] message, int number) => Fields(message).Where(f => f.Field == number).Select(f => f.Bytes);

    private static string Text(byte[] message, int number) => Field(message, number).Select(b => System.Text.Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";

    private static string Hex(byte[] message, int number) => Field(message, number).Select(Convert.ToHexString).FirstOrDefault() ?? "";

    /// <summary>Resource attributes with string values (Resource.attributes = 1; KeyValue key = 1, value = 2; AnyValue.string_value = 1).</summary>
    private static IEnumerable<(string Key, string Value)> Attributes(byte[] resource) =>
        Field(resource, 1).Select(kv => (Text(kv, 1), Field(kv, 2).Select(v => Text(v, 1)).FirstOrDefault() ?? ""));

    /// <summary>ExportMetricsServiceRequest: (service.name, scope name, metric name) of every metric.</summary>
    public static IEnumerable<(string Service, string Scope, string Metric)> Metrics(byte[] request) =>
        from rm in Field(request, 1)
        let service = Field(rm, 1).SelectMany(Attributes).FirstOrDefault(a => a.Key == "service.name").Value ?? ""
        from sm in Field(rm, 2)
        let scope = Field(sm, 1).Select(s => Text(s, 1)).FirstOrDefault() ?? ""
        from metric in Field(sm, 2)
        select (service, scope, Text(metric, 1));

    /// <summary>ExportTraceServiceRequest: every span (Span trace_id = 1, span_id = 2, parent_span_id = 4, name = 5).</summary>
    public static IEnumerable<Span> Spans(byte[] request) =>
        from rs in Field(request, 1)
        from ss in Field(rs, 2)
        let scope = Field(ss, 1).Select(s => Text(s, 1)).FirstOrDefault() ?? ""
        from span in Field(ss, 2)
        select new Span(scope, Text(span, 5), Hex(span, 1), Hex(span, 2), Hex(span, 4));
}
