using DecentCloud.Benchmarks;

return await BenchmarkCommand.RunAsync(args);
