using System.Runtime.InteropServices;
using System.Text;

namespace Scheduler.Core.Scenarios;

/// <summary>Why a file could not be read as scenario text.</summary>
public enum ScenarioTextProblem
{
    None,
    /// <summary>Missing, not a regular file, not readable.</summary>
    Unreadable,
    /// <summary>Larger than the bound.</summary>
    TooLarge,
    /// <summary>Not UTF-8 (or UTF-16/32 with a byte order mark), or holds a control character: <see cref="ScenarioText.Line"/> says where.</summary>
    BadText,
}

/// <summary>A text file read for a scenario, or why it could not be: the problem, and where in the file it is (1-based).</summary>
public readonly record struct ScenarioText(string? Text, string? Problem, ScenarioTextProblem Kind = ScenarioTextProblem.None, int Line = 1, int Column = 1)
{
    public bool Ok => Text is not null;
}

/// <summary>
/// Reads the files a scenario consists of (the scenario itself, an instance catalog, an imported task definition,
/// trace CSVs) as text, refusing what would hang or exhaust memory before reading it: a named pipe or a device
/// (a FIFO blocks until someone writes, <c>/dev/zero</c> never ends), a file larger than the bound. The text
/// must be UTF-8 (or UTF-16/32 with a byte order mark) and hold no control characters other than tab, line feed
/// and carriage return, which YAML does not allow either; the first offending byte is reported with its line and column.
/// </summary>
public static partial class ScenarioFiles
{
    /// <summary>Where the first control character (U+0000 to U+001F, or DEL) of <paramref name="text"/> is; -1 when there is none.</summary>
    public static int ControlCharacterAt(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] < ' ' || text[i] == '\u007f')
            {
                return i;
            }
        }
        return -1;
    }

    public static ScenarioText Read(string path, long maxBytes, CancellationToken cancellation = default)
    {
        try
        {
            if (Directory.Exists(path))
            {
                return new(null, "this is a directory, not a file", ScenarioTextProblem.Unreadable);
            }
            if (KindOf(path) is { } kind)
            {
                return new(null, kind, ScenarioTextProblem.Unreadable);
            }
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            if (file.CanSeek && file.Length > maxBytes)
            {
                return new(null, $"the file holds {file.Length:N0} bytes, more than {maxBytes:N0}", ScenarioTextProblem.TooLarge);
            }
            // Read at most the bound, whatever the file claims its length is.
            var bytes = new MemoryStream(file.CanSeek ? (int)Math.Min(file.Length, maxBytes) : 1 << 16);
            var chunk = new byte[1 << 16];
            int n;
            while ((n = file.Read(chunk)) > 0)
            {
                cancellation.ThrowIfCancellationRequested();
                if (bytes.Length + n > maxBytes)
                {
                    return new(null, $"the file holds more than {maxBytes:N0} bytes", ScenarioTextProblem.TooLarge);
                }
                bytes.Write(chunk, 0, n);
            }
            return Decode(bytes.GetBuffer().AsSpan(0, (int)bytes.Length));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return new(null, e.Message, ScenarioTextProblem.Unreadable);
        }
    }

    /// <summary>Text from bytes: a byte order mark picks UTF-8, UTF-16 or UTF-32, else strict UTF-8; then the characters are checked.</summary>
    public static ScenarioText Decode(ReadOnlySpan<byte> bytes)
    {
        var (encoding, skip) = bytes switch
        {
            [0xEF, 0xBB, 0xBF, ..] => ((Encoding)new UTF8Encoding(false, true), 3),
            [0xFF, 0xFE, 0x00, 0x00, ..] => (new UTF32Encoding(false, false, true), 4),
            [0x00, 0x00, 0xFE, 0xFF, ..] => (new UTF32Encoding(true, false, true), 4),
            [0xFF, 0xFE, ..] => (new UnicodeEncoding(false, false, true), 2),
            [0xFE, 0xFF, ..] => (new UnicodeEncoding(true, false, true), 2),
            _ => (new UTF8Encoding(false, true), 0),
        };
        var body = bytes[skip..];
        string text;
        try
        {
            text = encoding.GetString(body);
        }
        catch (DecoderFallbackException e)
        {
            var at = Math.Clamp(e.Index, 0, body.Length);
            var (line, column) = Position(body[..at], encoding);
            var name = encoding is UTF8Encoding ? "UTF-8" : encoding.WebName.ToUpperInvariant();
            return new(null, $"the file is not valid {name} (byte {skip + at:N0}); save it as UTF-8", ScenarioTextProblem.BadText, line, column);
        }
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (Allowed(c))
            {
                continue;
            }
            var (line, column) = Position(text.AsSpan(0, i));
            var hint = c == '\0' && skip == 0 ? " (a file saved as UTF-16 needs its byte order mark; better, save it as UTF-8)" : "";
            return new(null, $"control character U+{(int)c:X4} is not allowed in the file{hint}", ScenarioTextProblem.BadText, line, column);
        }
        return new(text, null);
    }

    /// <summary>YAML's printable characters: tab, line breaks, and everything but the C0 and C1 controls, DEL and the two non-characters.</summary>
    private static bool Allowed(char c) => c switch
    {
        '\t' or '\n' or '\r' or '\u0085' => true,
        < ' ' or '\u007F' => false,
        >= '\u0080' and <= '\u009F' => false,
        '\uFFFE' or '\uFFFF' => false,
        _ => true,
    };

    private static (int Line, int Column) Position(ReadOnlySpan<byte> before, Encoding encoding) =>
        Position(encoding.GetString(before));

    private static (int Line, int Column) Position(ReadOnlySpan<char> before)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < before.Length; i++)
        {
            if (before[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return (line, before.Length - lineStart + 1);
    }

    /// <summary>Null for a regular file (or when the system cannot tell); else what the path is instead.</summary>
    private static string? KindOf(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        var buffer = new byte[StatxSize];
        if (Statx(AtCurrentDirectory, path, 0, StatxType, buffer) != 0)
        {
            // Missing files, loops of links and the like are reported by the open that follows, in .NET's words.
            return null;
        }
        var mode = BitConverter.ToUInt16(buffer, StatxModeOffset) & 0xF000;
        return mode switch
        {
            0x8000 => null,
            0x1000 => "this is a named pipe (FIFO), not a regular file; reading it would wait for a writer",
            0x2000 => "this is a character device, not a regular file",
            0x6000 => "this is a block device, not a regular file",
            0xC000 => "this is a socket, not a regular file",
            0x4000 => "this is a directory, not a file",
            _ => null,
        };
    }

    // statx(2) has the same layout on every Linux architecture, unlike stat(2): the 16-bit mode is at byte 28.
    private const int AtCurrentDirectory = -100;
    private const uint StatxType = 0x1;
    private const int StatxSize = 256;
    private const int StatxModeOffset = 28;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, [Out] byte[] buffer);
}
