using DecentCloud.Shared;

Console.WriteLine($"dc-agent {BuildInfo.Version}");
return 0;
