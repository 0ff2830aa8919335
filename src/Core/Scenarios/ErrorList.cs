namespace Scheduler.Core.Scenarios;

/// <summary>
/// The errors (or warnings) of a load: every one is counted, but only the first <see cref="Kept"/> are kept, so a
/// file that makes hundreds of thousands of errors costs no more memory than the ones a command prints. "First" is
/// in file order (line, then column, then the order they were found) or, for errors gathered from several files
/// one after the other, in the order they were added.
/// </summary>
internal sealed class ErrorList(bool inFileOrder = true)
{
    /// <summary>How many are kept: as many as a command prints.</summary>
    public const int Kept = ScenarioLoadResult.PrintedErrors;

    private readonly List<(ScenarioError Error, long Seq)> _kept = [];
    private long _seq;
    private int _last = -1;

    /// <summary>Every error added, kept or not.</summary>
    public int Count { get; private set; }

    public void Add(ScenarioError error)
    {
        Count++;
        var item = (error, _seq++);
        if (_kept.Count < Kept)
        {
            _kept.Add(item);
            _last = -1;
            return;
        }
        if (!inFileOrder)
        {
            return;
        }
        // Full: the new one replaces the last kept one if it comes before it in the file.
        if (_last < 0)
        {
            _last = LastIndex();
        }
        if (Before(item, _kept[_last]))
        {
            _kept[_last] = item;
            _last = LastIndex();
        }
    }

    public void AddRange(IEnumerable<ScenarioError> errors)
    {
        foreach (var e in errors)
        {
            Add(e);
        }
    }

    /// <summary>Counts errors that were found and counted elsewhere but not handed over (past another list's kept ones).</summary>
    public void CountMore(int uncounted) => Count += Math.Max(0, uncounted);

    /// <summary>
    /// Removes and returns the errors added since <see cref="Count"/> was <paramref name="before"/>; while every
    /// error is kept (as after a load without errors, when one live call at a time is checked) that is all of them.
    /// </summary>
    public List<ScenarioError> TakeSince(int before)
    {
        var taken = new List<ScenarioError>();
        var firstNew = _seq - (Count - before);
        for (var i = _kept.Count - 1; i >= 0; i--)
        {
            if (_kept[i].Seq >= firstNew)
            {
                taken.Add(_kept[i].Error);
                _kept.RemoveAt(i);
            }
        }
        Count = before;
        _last = -1;
        taken.Reverse();
        return taken;
    }

    /// <summary>The kept errors, first first.</summary>
    public IReadOnlyList<ScenarioError> Sorted()
    {
        var sorted = _kept.ToArray();
        Array.Sort(sorted, (a, b) => Before(a, b) ? -1 : Before(b, a) ? 1 : 0);
        return sorted.Select(k => k.Error).ToArray();
    }

    private bool Before((ScenarioError Error, long Seq) a, (ScenarioError Error, long Seq) b)
    {
        if (inFileOrder)
        {
            if (a.Error.Line != b.Error.Line)
            {
                return a.Error.Line < b.Error.Line;
            }
            if (a.Error.Column != b.Error.Column)
            {
                return a.Error.Column < b.Error.Column;
            }
        }
        return a.Seq < b.Seq;
    }

    private int LastIndex()
    {
        var last = 0;
        for (var i = 1; i < _kept.Count; i++)
        {
            if (Before(_kept[last], _kept[i]))
            {
                last = i;
            }
        }
        return last;
    }
}
