using System.Diagnostics;
using System.Text.Json;
using Scheduler.Abstractions;
using Scheduler.Core.Catalog;
using Scheduler.Core.Engine;
using Scheduler.Core.RateLimits;
using Scheduler.Core.Reporting;
using Scheduler.Core.Scenarios;
using YamlDotNet.RepresentationModel;

namespace Scheduler.Client.Live;

/// <summary>
/// Drives a run against the wall clock: simulated time = wall time x speed. Calls accepted now are stamped at the
/// frontier, the next tick no round has begun at; when the wall clock reaches the frontier the driver hands its calls
/// to the simulation grain and lets it run every round before the next frontier (pacing is the round loop's horizon).
/// Everything the API reads or changes is guarded by <see cref="Gate"/>.
/// </summary>
public sealed class LiveEngine
{
    private readonly IGrainFactory _grains;
    private readonly ISimulationGrain _sim;
    private readonly string _runId;
    private readonly Stopwatch _wall = new();
    private readonly List<TimelineEntry> _pending = [];
    private readonly List<YamlMappingNode> _recorded = [];
    private readonly bool _record;
    private readonly Dictionary<string, Admission> _admissions = new(StringComparer.Ordinal);
    /// <summary>The scenario timeline's own submitJob entries by account and tick: they draw on the SubmitJob bucket before API calls of that tick.</summary>
    private readonly Dictionary<(string Account, long Tick), int> _fileSubmits = [];
    private TaskCompletionSource _caughtUpSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _caughtUpTo = -1;

    private LiveEngine(IGrainFactory grains, string runId, Scenario scenario, LiveScenario parser, InstanceTypeCatalog catalog, double speed, bool record,
        TimeSpan retention)
    {
        _grains = grains;
        _runId = runId;
        _sim = grains.GetGrain<ISimulationGrain>(runId);
        Scenario = scenario;
        Parser = parser;
        Speed = speed;
        TickMs = (long)scenario.Tick.TotalMilliseconds;
        Model = new LiveModel(scenario, catalog) { RetainMs = (long)retention.TotalMilliseconds };
        Summary = new SummaryBuilder(catalog, scenario);
        _record = record;
        foreach (var entry in scenario.Timeline)
        {
            if (entry.Action is Core.Scenarios.SubmitJobAction submit)
            {
                var ms = (long)entry.At.TotalMilliseconds;
                var tick = ms <= 0 ? 0 : (ms + TickMs - 1) / TickMs * TickMs;
                _fileSubmits[(submit.Account, tick)] = _fileSubmits.GetValueOrDefault((submit.Account, tick)) + 1;
            }
        }
    }

    public object Gate { get; } = new();
    public Scenario Scenario { get; }
    public LiveScenario Parser { get; }
    public LiveModel Model { get; }
    public SummaryBuilder Summary { get; }
    public double Speed { get; }
    public long TickMs { get; }
    /// <summary>The tick at which calls accepted now take effect (under <see cref="Gate"/>).</summary>
    public long Frontier { get; private set; }
    public long Events { get; private set; }
    public long Ticks { get; private set; }
    public long SimulatedMs { get; private set; }
    public long AcceptedCalls { get; private set; }

    /// <summary>Simulated time now, by the wall clock.</summary>
    public long NowMs => (long)(_wall.Elapsed.TotalMilliseconds * Speed);

    /// <param name="checkpoints">
    /// Whether the run writes checkpoints. A live session is never resumed from one (the answers it gave cannot be
    /// taken back), and an embedded silo's storage dies with the process anyway; writing one would only pause the
    /// rounds (and every RunTask waiting for them) and hold a copy of every grain's state.
    /// </param>
    public static async Task<LiveEngine> StartAsync(IGrainFactory grains, Scenario scenario, LiveScenario parser, InstanceTypeCatalog catalog,
        double speed, bool record, TimeSpan? retention = null, bool checkpoints = true)
    {
        var runId = $"live-{Guid.NewGuid():N}";
        var engine = new LiveEngine(grains, runId, scenario, parser, catalog, speed, record, retention ?? LiveModel.DefaultRetention);
        await engine._sim.Start(new SimulationSetup(runId, scenario, catalog.Types, Live: true, CheckpointIntervalMs: checkpoints ? null : int.MaxValue));
        engine._wall.Start();
        return engine;
    }

    /// <summary>Takes an accepted call (under <see cref="Gate"/>): it reaches the engine at <see cref="Frontier"/>.</summary>
    public void Enqueue(string actionName, YamlMappingNode body, TimelineAction action)
    {
        _pending.Add(new TimelineEntry(TimeSpan.FromMilliseconds(Frontier), action, 0));
        AcceptedCalls++;
        if (_record)
        {
            _recorded.Add(TaskDefinitionJson.Map(("at", new YamlScalarNode($"{Frontier}ms")), (actionName, body)));
        }
    }

    /// <summary>Completes once every round before <paramref name="frontier"/> has run (its bucket state is final).</summary>
    public Task CaughtUp(long frontier)
    {
        lock (Gate)
        {
            return _caughtUpTo >= frontier ? Task.CompletedTask : _caughtUpSignal.Task;
        }
    }

    /// <summary>What an account's buckets hold at a frontier, less what calls stamped there were promised (under <see cref="Gate"/>).</summary>
    public sealed class Admission(long frontier, int runTask, int fargate, int spot, int submitJob)
    {
        public long Frontier { get; } = frontier;
        public int RunTask { get; set; } = runTask;
        public int FargateOnDemand { get; set; } = fargate;
        public int FargateSpot { get; set; } = spot;
        /// <summary>SubmitJob calls left at this frontier after the scenario's own submitJob entries there (they draw first).</summary>
        public int SubmitJob { get; set; } = submitJob;
    }

    /// <summary>
    /// Runs <paramref name="admitted"/> under <see cref="Gate"/> with the account's admission at the frontier, once every
    /// round before that frontier has run (so that the bucket state it reads is final); if the frontier moved on
    /// meanwhile, waits for the next one. RunTask and SubmitJob answer through it.
    /// </summary>
    public async Task<T> AdmitAsync<T>(LiveAccount account, Func<Admission, T> admitted)
    {
        while (true)
        {
            long frontier;
            lock (Gate)
            {
                frontier = Frontier;
            }
            await CaughtUp(frontier);
            var admission = await AdmissionAt(account.Spec.Id, account.Spec.Limits, frontier);
            if (admission is null)
            {
                continue;
            }
            lock (Gate)
            {
                if (Frontier == frontier)
                {
                    return admitted(admission);
                }
            }
        }
    }

    /// <summary>The account's admission at <paramref name="frontier"/>, read from its bucket grains once per frontier (call after <see cref="CaughtUp"/>).</summary>
    public async Task<Admission?> AdmissionAt(string account, IReadOnlyDictionary<string, BucketLimit> limits, long frontier)
    {
        lock (Gate)
        {
            if (_admissions.TryGetValue(account, out var known) && known.Frontier == frontier)
            {
                return known;
            }
        }
        Task<int> Available(string bucket) => _grains.GetGrain<IRateLimitBucketGrain>(Keys.Bucket(_runId, account, bucket))
            .Available(frontier, BucketNames.Limit(limits, bucket));
        var counts = await Task.WhenAll(Available(BucketNames.RunTask), Available(BucketNames.FargateOnDemand), Available(BucketNames.FargateSpot),
            Available(BucketNames.SubmitJob));
        lock (Gate)
        {
            if (Frontier != frontier)
            {
                return null;
            }
            if (_admissions.TryGetValue(account, out var known) && known.Frontier == frontier)
            {
                return known;
            }
            var admission = new Admission(frontier, counts[0], counts[1], counts[2],
                Math.Max(0, counts[3] - _fileSubmits.GetValueOrDefault((account, frontier))));
            _admissions[account] = admission;
            return admission;
        }
    }

    /// <summary>
    /// Runs until <paramref name="stop"/> fires, then delivers the calls accepted so far and returns. Each step waits
    /// for the wall clock to reach the frontier, moves the frontier on, and lets the engine run up to it.
    /// </summary>
    public async Task DriveAsync(Func<IReadOnlyList<SimEvent>, Task> sink, CancellationToken stop)
    {
        while (true)
        {
            long wait;
            lock (Gate)
            {
                wait = (long)Math.Ceiling((Frontier - NowMs) / Speed);
            }
            if (wait > 0 && !stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(wait, 1000)), stop);
                }
                catch (OperationCanceledException)
                {
                }
                continue;
            }
            await StepAsync(sink);
            if (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private long _stepMaxTicks;

    /// <summary>The longest step (engine rounds plus absorbing their events) since the last call, in milliseconds: how long a RunTask may wait.</summary>
    public double TakeLongestStepMs() => TimeSpan.FromTicks(Interlocked.Exchange(ref _stepMaxTicks, 0)).TotalMilliseconds;

    private async Task StepAsync(Func<IReadOnlyList<SimEvent>, Task> sink)
    {
        var started = Stopwatch.GetTimestamp();
        List<TimelineEntry> calls;
        long horizon;
        lock (Gate)
        {
            calls = [.. _pending];
            _pending.Clear();
            var now = NowMs;
            horizon = Math.Max(Frontier + TickMs, (now / TickMs + 1) * TickMs);
            Frontier = horizon;
        }
        var progress = await _sim.RunUntil(250, horizon, calls);
        await Absorb(progress, sink);
        while (!progress.AtHorizon && !progress.Done)
        {
            progress = await _sim.RunUntil(250, horizon, []);
            await Absorb(progress, sink);
        }
        lock (Gate)
        {
            Model.Sweep(progress.SimulatedMs);
            _caughtUpTo = horizon;
            var signal = _caughtUpSignal;
            _caughtUpSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            signal.SetResult();
        }
        var took = Stopwatch.GetElapsedTime(started).Ticks;
        if (took > Interlocked.Read(ref _stepMaxTicks))
        {
            Interlocked.Exchange(ref _stepMaxTicks, took);
        }
    }

    private const int AbsorbSlice = 256;

    private async Task Absorb(RunProgress progress, Func<IReadOnlyList<SimEvent>, Task> sink)
    {
        // The summary is the driver's alone; the model is shared with the requests, so it takes the events in slices
        // and requests get the lock between them (a slice is a prefix of the log: a state the engine passed through).
        foreach (var e in progress.Events)
        {
            Summary.Observe(e);
        }
        for (var from = 0; from < progress.Events.Count; from += AbsorbSlice)
        {
            lock (Gate)
            {
                for (var i = from; i < Math.Min(progress.Events.Count, from + AbsorbSlice); i++)
                {
                    Model.Apply(progress.Events[i]);
                }
            }
        }
        lock (Gate)
        {
            Events += progress.Events.Count;
            Ticks = progress.Ticks;
            SimulatedMs = progress.SimulatedMs;
        }
        await sink(progress.Events);
    }

    /// <summary>The last horizon: every round before it ran, none at or after it.</summary>
    public long Horizon
    {
        get
        {
            lock (Gate)
            {
                return Frontier;
            }
        }
    }

    /// <summary>
    /// The session as a scenario: the original file with the accepted calls appended to its timeline, and a duration
    /// that ends where the session did, so that <c>simulate</c> replays the same rounds.
    /// </summary>
    public void WriteRecording(string scenarioPath, string recordPath)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(scenarioPath)))
        {
            stream.Load(reader);
        }
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        root.Children.Remove(new YamlScalarNode("until"));
        root.Children.Remove(new YamlScalarNode("duration"));
        // Rounds before the horizon ran; a replay runs rounds up to and including its duration.
        root.Children.Add(new YamlScalarNode("duration"), new YamlScalarNode($"{Math.Max(1, Horizon - 1)}ms"));
        if (!root.Children.TryGetValue(new YamlScalarNode("timeline"), out var timeline) || timeline is not YamlSequenceNode sequence)
        {
            root.Children.Remove(new YamlScalarNode("timeline"));
            sequence = new YamlSequenceNode();
            root.Children.Add(new YamlScalarNode("timeline"), sequence);
        }
        sequence.Style = YamlDotNet.Core.Events.SequenceStyle.Block;
        foreach (var entry in _recorded)
        {
            sequence.Add(entry);
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(recordPath));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }
        using var writer = new StreamWriter(recordPath);
        writer.WriteLine($"# Recorded by serve from {Path.GetFileName(scenarioPath)}: its timeline plus {_recorded.Count} accepted API call(s), in simulated time.");
        stream.Save(writer, assignAnchors: false);
    }

    public RunSummary BuildSummary(double wallSeconds)
    {
        lock (Gate)
        {
            return Summary.Build(Scenario.Name, Scenario.Seed, SimulatedMs, wallSeconds, Ticks);
        }
    }

    public static readonly JsonSerializerOptions Json = SimulationRun.SummaryJson;
}
