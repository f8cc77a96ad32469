using DecentCloud.FunctionsHost;

return await LocalFunctionsHost.RunAsync(args);
