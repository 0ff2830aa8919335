using Scheduler.Client;

return await Cli.RunAsync(args);
