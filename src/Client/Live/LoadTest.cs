using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Scheduler.Core.Scenarios;

namespace Scheduler.Client.Live;

/// <summary>What <c>loadtest</c> does: the target rate, how long, which accounts, and the share of RunTask calls.</summary>
public sealed record LoadTestOptions(Uri Endpoint, double Rate, TimeSpan Duration, int Accounts, double RunTaskShare, int RunTaskCount,
    TimeSpan Interval, string Region = "us-east-1", int? ServerPid = null);

/// <summary>One interval's figures (or the whole run's), in milliseconds.</summary>
public sealed record LoadFigures(double Seconds, long Requests, long Ok, long Throttled, long Errors, long Late, double P50, double P95, double P99,
    double Max, double Avg, long? ServerWorkingSetBytes, IReadOnlyDictionary<string, long> ErrorTypes);

/// <summary>One operation's latency over a run, in milliseconds.</summary>
public sealed record OperationFigures(long Requests, double P50, double P95, double P99, double Max);

/// <summary>
/// An open-loop load generator for the live API (as k6's constant-arrival-rate executor): requests start on a fixed
/// schedule whatever the latency of earlier ones, spread round-robin over the scenario's accounts that have
/// credentials, each signed with SigV4. A share are RunTask calls; the rest are Describe/List calls. Reports latency
/// percentiles, throttles and errors per interval and for the run.
/// </summary>
public sealed class LoadTest
{
    private static readonly string[] ReadOperations = ["DescribeClusters", "ListTasks", "DescribeServices", "ListServices", "DescribeTasks", "ListContainerInstances"];

    private sealed record Target(string AccessKey, string Secret, string Cluster, string? Service, string TaskDefinition, string CapacityProvider)
    {
        public ConcurrentQueue<string> Tasks { get; } = new();
    }

    private readonly LoadTestOptions _options;
    private readonly List<Target> _targets;
    private readonly HttpClient _http;
    private readonly object _gate = new();
    private List<double> _window = [];
    private readonly List<double> _all = [];
    private readonly SortedDictionary<string, List<double>> _byOperation = new(StringComparer.Ordinal);
    private long _requests, _ok, _throttled, _errors, _late;
    private long _wRequests, _wOk, _wThrottled, _wErrors, _wLate;
    private Dictionary<string, long> _errorTypes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _allErrorTypes = new(StringComparer.Ordinal);

    private LoadTest(LoadTestOptions options, List<Target> targets)
    {
        _options = options;
        _targets = targets;
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 512,
            PooledConnectionLifetime = TimeSpan.FromMinutes(30),
            UseProxy = false,
        })
        { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The accounts (with credentials) of a scenario, each with its first cluster, service and task definition; null and a reason when none fits.</summary>
    public static (LoadTest? Test, string? Problem) Create(Scenario scenario, LoadTestOptions options)
    {
        var targets = new List<Target>();
        foreach (var account in scenario.Accounts.Where(a => a.Credentials is not null))
        {
            var cluster = account.Clusters.FirstOrDefault(c => c.TaskDefinitions.Count > 0);
            if (cluster is null)
            {
                continue;
            }
            var td = cluster.TaskDefinitions[0];
            var provider = cluster.CapacityProviders[0].Name;
            targets.Add(new Target(account.Credentials!.AccessKeyId, account.Credentials.SecretAccessKey, cluster.Name,
                cluster.Services.FirstOrDefault()?.Name, $"{td.Family}:{td.Revision}", provider));
            if (targets.Count == options.Accounts)
            {
                break;
            }
        }
        if (targets.Count == 0)
        {
            return (null, "no account of the scenario has credentials and a cluster with a task definition");
        }
        return (new LoadTest(options, targets), null);
    }

    public int AccountCount => _targets.Count;

    public async Task<LoadFigures> RunAsync(Action<LoadFigures> report, CancellationToken cancellation)
    {
        var total = (long)(_options.Rate * _options.Duration.TotalSeconds);
        var clock = Stopwatch.StartNew();
        var inFlight = new List<Task>();
        var nextReport = _options.Interval;
        var lastReport = TimeSpan.Zero;
        var pending = new ConcurrentDictionary<long, Task>();
        for (long i = 0; i < total && !cancellation.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds(i / _options.Rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, CancellationToken.None);
            }
            else if (wait < TimeSpan.FromMilliseconds(-100))
            {
                // The generator itself fell behind its schedule (CPU starved): counted, and sent at once.
                Interlocked.Increment(ref _late);
                Interlocked.Increment(ref _wLate);
            }
            var n = i;
            var task = SendAsync(n);
            pending[n] = task;
            _ = task.ContinueWith(_ => pending.TryRemove(n, out Task? _), TaskScheduler.Default);
            if (clock.Elapsed >= nextReport)
            {
                report(TakeWindow((clock.Elapsed - lastReport).TotalSeconds));
                lastReport = clock.Elapsed;
                nextReport += _options.Interval;
            }
        }
        await Task.WhenAll(pending.Values);
        if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(1))
        {
            report(TakeWindow((clock.Elapsed - lastReport).TotalSeconds));
        }
        lock (_gate)
        {
            return Figures(clock.Elapsed.TotalSeconds, _requests, _ok, _throttled, _errors, Interlocked.Read(ref _late), _all, _allErrorTypes);
        }
    }

    private async Task SendAsync(long n)
    {
        var target = _targets[(int)(n % _targets.Count)];
        var runTask = Fraction(n) < _options.RunTaskShare;
        var (operation, body) = runTask
            ? ("RunTask", $$"""{"cluster":"{{target.Cluster}}","taskDefinition":"{{target.TaskDefinition}}","count":{{_options.RunTaskCount}},"capacityProviderStrategy":[{"capacityProvider":"{{target.CapacityProvider}}","weight":1}]}""")
            : Read(target, n);
        var started = Stopwatch.GetTimestamp();
        string? errorType = null;
        var ok = false;
        try
        {
            using var request = Sign(target, operation, body);
            using var response = await _http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                ok = true;
                if (runTask)
                {
                    Remember(target, text);
                }
            }
            else
            {
                using var doc = JsonDocument.Parse(text);
                errorType = doc.RootElement.TryGetProperty("__type", out var t) ? t.GetString() : $"HTTP {(int)response.StatusCode}";
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            errorType = e.GetType().Name;
        }
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        lock (_gate)
        {
            _window.Add(ms);
            _all.Add(ms);
            (_byOperation.TryGetValue(operation, out var mine) ? mine : _byOperation[operation] = []).Add(ms);
            _requests++;
            _wRequests++;
            if (ok)
            {
                _ok++;
                _wOk++;
            }
            else if (errorType == "ThrottlingException")
            {
                _throttled++;
                _wThrottled++;
            }
            else
            {
                _errors++;
                _wErrors++;
                _errorTypes[errorType!] = _errorTypes.GetValueOrDefault(errorType!) + 1;
                _allErrorTypes[errorType!] = _allErrorTypes.GetValueOrDefault(errorType!) + 1;
            }
        }
    }

    /// <summary>A deterministic spread in [0, 1) per request number, so the mix is the same on every run.</summary>
    private static double Fraction(long n) => ((ulong)n * 0x9E3779B97F4A7C15UL >> 11) / (double)(1UL << 53);

    private static (string, string) Read(Target target, long n)
    {
        var op = ReadOperations[(int)(n / 7 % ReadOperations.Length)];
        var body = op switch
        {
            "DescribeClusters" => $$"""{"clusters":["{{target.Cluster}}"]}""",
            "ListTasks" => $$"""{"cluster":"{{target.Cluster}}"}""",
            "DescribeServices" => $$"""{"cluster":"{{target.Cluster}}","services":["{{target.Service ?? "none"}}"]}""",
            "ListServices" => $$"""{"cluster":"{{target.Cluster}}"}""",
            "DescribeTasks" => $$"""{"cluster":"{{target.Cluster}}","tasks":["{{(target.Tasks.TryPeek(out var t) ? t : "none")}}"]}""",
            _ => $$"""{"cluster":"{{target.Cluster}}"}""",
        };
        return (op, body);
    }

    private static void Remember(Target target, string response)
    {
        using var doc = JsonDocument.Parse(response);
        foreach (var task in doc.RootElement.GetProperty("tasks").EnumerateArray())
        {
            target.Tasks.Enqueue(task.GetProperty("taskArn").GetString()!);
        }
        while (target.Tasks.Count > 20 && target.Tasks.TryDequeue(out _))
        {
        }
    }

    private HttpRequestMessage Sign(Target target, string operation, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var amzDate = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var host = _options.Endpoint.IsDefaultPort ? _options.Endpoint.Host : $"{_options.Endpoint.Host}:{_options.Endpoint.Port}";
        var target2 = EcsApi.TargetPrefix + operation;
        List<KeyValuePair<string, string>> headers =
        [
            new("content-type", "application/x-amz-json-1.1"), new("host", host), new("x-amz-date", amzDate), new("x-amz-target", target2),
        ];
        var auth = SigV4.Authorization(new SignedRequest("POST", "/", "", headers, bytes), target.AccessKey, target.Secret, _options.Region, "ecs", amzDate);
        var request = new HttpRequestMessage(HttpMethod.Post, _options.Endpoint) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target2);
        request.Headers.TryAddWithoutValidation("Authorization", auth);
        return request;
    }

    /// <summary>Latency per operation over the whole run (count, p50, p95, p99, max in ms), to tell writes from reads.</summary>
    public SortedDictionary<string, OperationFigures> ByOperation()
    {
        lock (_gate)
        {
            var result = new SortedDictionary<string, OperationFigures>(StringComparer.Ordinal);
            foreach (var (op, list) in _byOperation)
            {
                var sorted = list.ToArray();
                Array.Sort(sorted);
                double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
                result[op] = new OperationFigures(sorted.Length, P(0.50), P(0.95), P(0.99), sorted[^1]);
            }
            return result;
        }
    }

    private LoadFigures TakeWindow(double seconds)
    {
        lock (_gate)
        {
            var figures = Figures(seconds, _wRequests, _wOk, _wThrottled, _wErrors, Interlocked.Exchange(ref _wLate, 0), _window, _errorTypes);
            _window = [];
            _errorTypes = new Dictionary<string, long>(StringComparer.Ordinal);
            _wRequests = _wOk = _wThrottled = _wErrors = 0;
            return figures;
        }
    }

    private LoadFigures Figures(double seconds, long requests, long ok, long throttled, long errors, long late, List<double> latencies,
        Dictionary<string, long> errorTypes)
    {
        var sorted = latencies.ToArray();
        Array.Sort(sorted);
        double P(double q) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new LoadFigures(seconds, requests, ok, throttled, errors, late, P(0.50), P(0.95), P(0.99), sorted.Length == 0 ? 0 : sorted[^1],
            sorted.Length == 0 ? 0 : sorted.Average(), ServerWorkingSet(), new Dictionary<string, long>(errorTypes));
    }

    private long? ServerWorkingSet()
    {
        if (_options.ServerPid is not { } pid)
        {
            return null;
        }
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return null;
    }
}
