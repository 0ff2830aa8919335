using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Scheduler.Benchmarks.PlacementBenchmarks).Assembly).Run(args);
