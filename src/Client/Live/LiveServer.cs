using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Scheduler.Client.Live;

/// <summary>
/// The HTTP endpoint (Kestrel, loopback only): POST / with <c>X-Amz-Target: AmazonEC2ContainerServiceV20141113.Op</c> and
/// an AWS JSON 1.1 body, signed with an account's key (SigV4). Answers as ECS does, so the AWS CLI and SDKs work with
/// <c>--endpoint-url</c>.
/// </summary>
public sealed partial class LiveServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly LiveEngine _engine;
    private readonly EcsApi _api;
    private readonly ILogger _log;
    private long _requestCounter;

    private LiveServer(WebApplication app, LiveEngine engine, ILogger log)
    {
        _app = app;
        _engine = engine;
        _api = new EcsApi(engine);
        _log = log;
    }

    public long Requests => Interlocked.Read(ref _requestCounter);
    public long Refused { get; private set; }

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
        await app.StartAsync(cancellation);
        return server;
    }

    private async Task HandleAsync(HttpContext http)
    {
        Interlocked.Increment(ref _requestCounter);
        var requestId = Guid.NewGuid().ToString();
        http.Response.Headers["x-amzn-RequestId"] = requestId;
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        var body = buffer.ToArray();
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
        var target = http.Request.Headers["X-Amz-Target"].ToString();
        var operation = target.StartsWith(EcsApi.TargetPrefix, StringComparison.Ordinal) ? target[EcsApi.TargetPrefix.Length..] : "";
        string? secret(string key)
        {
            lock (_engine.Gate)
            {
                return _engine.Model.SecretOf(key);
            }
        }
        var check = SigV4.Verify(signed, secret, DateTimeOffset.UtcNow);
        if (!check.Ok)
        {
            await Answer(http, check.Error!, operation);
            return;
        }
        LiveAccount account;
        lock (_engine.Gate)
        {
            account = _engine.Model.ByAccessKey(check.AccessKeyId!)!;
        }
        if (check.Service != "ecs")
        {
            await Answer(http, EcsError.InvalidSignature($"Credential should be scoped to correct service: 'ecs'."), operation);
            return;
        }
        if (!EcsApi.Operations.Contains(operation))
        {
            await Answer(http, EcsError.UnknownOperation(target), operation);
            return;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body);
        }
        catch (JsonException e)
        {
            await Answer(http, EcsError.Serialization($"Request body is not JSON: {e.Message}"), operation);
            return;
        }
        using (document)
        {
            try
            {
                var result = await _api.InvokeAsync(new EcsCaller(account, check.Region!), operation, document.RootElement);
                http.Response.StatusCode = 200;
                http.Response.ContentType = "application/x-amz-json-1.1";
                await http.Response.WriteAsync(result.ToJsonString(), http.RequestAborted);
            }
            catch (EcsException e)
            {
                await Answer(http, e.Error, operation);
            }
        }
    }

    private async Task Answer(HttpContext http, EcsError error, string operation)
    {
        lock (_engine.Gate)
        {
            Refused++;
        }
        LogRefused(operation, error.Type, error.Message);
        http.Response.StatusCode = error.Status;
        http.Response.ContentType = "application/x-amz-json-1.1";
        await http.Response.WriteAsync(error.Body().ToJsonString(), http.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Operation} refused: {Type}: {Message}")]
    private partial void LogRefused(string operation, string type, string message);
}
