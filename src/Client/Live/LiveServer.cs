using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Scheduler.Client.Live;

/// <summary>
/// The HTTP endpoint (Kestrel, loopback only): POST / with <c>X-Amz-Target: AmazonEC2ContainerServiceV20141113.Op</c> and
/// an AWS JSON 1.1 body for ECS, POST /v1/op with a JSON body for AWS Batch; signed with an account's key (SigV4).
/// Answers as ECS and Batch do, so the AWS CLI and SDKs work with <c>--endpoint-url</c>.
/// </summary>
public sealed partial class LiveServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly LiveEngine _engine;
    private readonly EcsApi _api;
    private readonly BatchApi _batch;
    private readonly ILogger _log;
    private long _requestCounter;

    private LiveServer(WebApplication app, LiveEngine engine, ILogger log)
    {
        _app = app;
        _engine = engine;
        _api = new EcsApi(engine);
        _batch = new BatchApi(engine);
        _log = log;
    }

    public long Requests => Interlocked.Read(ref _requestCounter);
    private long _refused;
    public long Refused => Interlocked.Read(ref _refused);

    public static async Task<LiveServer> StartAsync(LiveEngine engine, int port, ILoggerFactory loggers, CancellationToken cancellation)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port);
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        var server = new LiveServer(app, engine, loggers.CreateLogger<LiveServer>());
        app.MapPost("/", server.HandleAsync);
        app.MapPost("/v1/{operation}", server.HandleBatchAsync);
        await app.StartAsync(cancellation);
        return server;
    }

    /// <summary>ECS: AWS JSON 1.1 on <c>POST /</c>, the operation in <c>X-Amz-Target</c>.</summary>
    private async Task HandleAsync(HttpContext http)
    {
        var target = http.Request.Headers["X-Amz-Target"].ToString();
        var operation = target.StartsWith(EcsApi.TargetPrefix, StringComparison.Ordinal) ? target[EcsApi.TargetPrefix.Length..] : "";
        var (caller, body) = await AuthenticateAsync(http, "ecs", operation, Protocol.Ecs);
        if (caller is null)
        {
            return;
        }
        if (!EcsApi.Operations.Contains(operation))
        {
            await Answer(http, EcsError.UnknownOperation(target), operation, Protocol.Ecs);
            return;
        }
        await InvokeAsync(http, body, operation, Protocol.Ecs, request => _api.InvokeAsync(caller, operation, request));
    }

    /// <summary>AWS Batch: REST-JSON on <c>POST /v1/OPERATION</c> (lower case, as botocore's model writes the paths).</summary>
    private async Task HandleBatchAsync(HttpContext http, string operation)
    {
        var name = BatchApi.Operations.GetValueOrDefault(operation) ?? operation;
        var (caller, body) = await AuthenticateAsync(http, "batch", name, Protocol.Batch);
        if (caller is null)
        {
            return;
        }
        if (!BatchApi.Operations.ContainsKey(operation))
        {
            await Answer(http, new EcsError(404, "UnknownOperationException", $"Unknown operation: POST /v1/{operation}"), name, Protocol.Batch);
            return;
        }
        await InvokeAsync(http, body, name, Protocol.Batch, request => _batch.InvokeAsync(caller, name, request));
    }

    private enum Protocol { Ecs, Batch }

    /// <summary>Reads the body and verifies its signature for <paramref name="service"/>: the caller, or null once the refusal is sent.</summary>
    private async Task<(EcsCaller? Caller, byte[] Body)> AuthenticateAsync(HttpContext http, string service, string operation, Protocol protocol)
    {
        Interlocked.Increment(ref _requestCounter);
        http.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        byte[] body;
        if (http.Request.ContentLength is { } length and <= 1 << 20)
        {
            body = new byte[length];
            try
            {
                await http.Request.Body.ReadExactlyAsync(body, http.RequestAborted);
            }
            catch (EndOfStreamException)
            {
                await Answer(http, protocol == Protocol.Batch ? BatchApi.ClientError("The request body is shorter than its Content-Length.")
                    : EcsError.Serialization("The request body is shorter than its Content-Length."), operation, protocol);
                return (null, []);
            }
        }
        else
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
            body = buffer.ToArray();
        }
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in http.Request.Headers)
        {
            foreach (var value in values)
            {
                headers.Add(new(name, value ?? ""));
            }
        }
        var signed = new SignedRequest(http.Request.Method, http.Request.Path.HasValue ? http.Request.Path.Value! : "/",
            http.Request.QueryString.Value ?? "", headers, body);
        // The access keys are the scenario's and never change: read without the model's lock.
        var check = SigV4.Verify(signed, _engine.Model.SecretOf, DateTimeOffset.UtcNow);
        if (!check.Ok)
        {
            await Answer(http, check.Error!, operation, protocol);
            return (null, body);
        }
        var account = _engine.Model.ByAccessKey(check.AccessKeyId!)!;
        if (check.Service != service)
        {
            await Answer(http, EcsError.InvalidSignature($"Credential should be scoped to correct service: '{service}'."), operation, protocol);
            return (null, body);
        }
        return (new EcsCaller(account, check.Region!), body);
    }

    private async Task InvokeAsync(HttpContext http, byte[] body, string operation, Protocol protocol, Func<JsonElement, Task<System.Text.Json.Nodes.JsonObject>> invoke)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body);
        }
        catch (JsonException e)
        {
            await Answer(http, protocol == Protocol.Batch ? BatchApi.ClientError($"Request body is not JSON: {e.Message}")
                : EcsError.Serialization($"Request body is not JSON: {e.Message}"), operation, protocol);
            return;
        }
        using (document)
        {
            try
            {
                var result = await invoke(document.RootElement);
                http.Response.StatusCode = 200;
                http.Response.ContentType = protocol == Protocol.Batch ? "application/json" : "application/x-amz-json-1.1";
                // Straight into the response's buffers: no intermediate string of the whole answer.
                using (var writer = new Utf8JsonWriter(http.Response.BodyWriter))
                {
                    result.WriteTo(writer);
                }
                await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
            }
            catch (EcsException e)
            {
                await Answer(http, e.Error, operation, protocol);
            }
        }
    }

    private async Task Answer(HttpContext http, EcsError error, string operation, Protocol protocol)
    {
        Interlocked.Increment(ref _refused);
        LogRefused(operation, error.Type, error.Message);
        if (protocol == Protocol.Batch)
        {
            // REST-JSON: the error code in x-amzn-ErrorType; a refused signature is 403 there, as AWS's REST endpoints answer it.
            http.Response.StatusCode = error.Status == 400 && IsAuthError(error.Type) ? 403 : error.Status;
            http.Response.Headers["x-amzn-ErrorType"] = error.Type;
            http.Response.ContentType = "application/json";
        }
        else
        {
            http.Response.StatusCode = error.Status;
            http.Response.ContentType = "application/x-amz-json-1.1";
        }
        await http.Response.WriteAsync(error.Body().ToJsonString(), http.RequestAborted);
    }

    private static bool IsAuthError(string type) => type is "MissingAuthenticationTokenException" or "UnrecognizedClientException"
        or "InvalidSignatureException" or "IncompleteSignatureException";

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Operation} refused: {Type}: {Message}")]
    private partial void LogRefused(string operation, string type, string message);
}
