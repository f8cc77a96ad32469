using Microsoft.Extensions.Hosting;

await DecentCloud.Functions.Program.Create(args).RunAsync();
