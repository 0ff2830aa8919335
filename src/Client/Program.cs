using Scheduler.Client;
using Spectre.Console;

// When output goes to a file or a pipe (CI, logs), write plain, unwrapped text with no colour codes.
var console = Console.IsOutputRedirected
    ? AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = AnsiSupport.No,
        ColorSystem = ColorSystemSupport.NoColors,
        Interactive = InteractionSupport.No,
        Out = new AnsiConsoleOutput(Console.Out),
    })
    : AnsiConsole.Console;
if (Console.IsOutputRedirected)
{
    console.Profile.Width = 200;
}
return await Cli.RunAsync(args, console);
