using System.Runtime.InteropServices;

namespace Scheduler.Client;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM for the whole command: the first one cancels <see cref="Token"/>, so a run stops
/// at its next slice, shuts its silos down and writes what it has; a second one ends the process at once.
/// The exit code of an interrupted command is the shell's: 128 + the signal number (130, 143).
/// </summary>
public sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Action<string>? _notify;
    private int _received;

    private Interrupts(Action<string>? notify) => _notify = notify;

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>The first signal received, or null.</summary>
    public PosixSignal? Signal { get; private set; }

    /// <summary>What stopped the command, as the summary states it: "SIGINT" or "SIGTERM"; null if nothing did.</summary>
    public string? Reason => Signal switch
    {
        PosixSignal.SIGINT => "SIGINT",
        PosixSignal.SIGTERM => "SIGTERM",
        null => null,
        var s => s.ToString(),
    };

    /// <summary>130 after SIGINT, 143 after SIGTERM.</summary>
    public int ExitCode => Signal == PosixSignal.SIGTERM ? 143 : 130;

    /// <summary>Starts listening; <paramref name="notify"/> is told when the first signal arrives.</summary>
    public static Interrupts Listen(Action<string>? notify = null)
    {
        var interrupts = new Interrupts(notify);
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try
            {
                interrupts._registrations.Add(PosixSignalRegistration.Create(signal, interrupts.OnSignal));
            }
            catch (PlatformNotSupportedException)
            {
                // Not every platform has every signal; Ctrl-C still ends the process the default way there.
            }
        }
        return interrupts;
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _received) > 1)
        {
            // The second signal: let the runtime do what the signal does by default, which ends the process now.
            context.Cancel = false;
            return;
        }
        context.Cancel = true;
        Signal = context.Signal;
        _notify?.Invoke($"{Reason} received: stopping (a run stops at its next slice and writes what it simulated so far; send the signal again to stop at once)");
        // Cancel off the signal thread: callbacks registered on the token then run on the thread pool.
        ThreadPool.QueueUserWorkItem(_ => _cancel.Cancel());
    }

    public void Dispose()
    {
        foreach (var r in _registrations)
        {
            r.Dispose();
        }
        _registrations.Clear();
        // The token source is not disposed: a cancellation queued by a late signal may still use it.
    }
}
