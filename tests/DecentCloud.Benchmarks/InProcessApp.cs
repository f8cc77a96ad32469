using DecentCloud.Functions.Platform;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using FunctionApp = DecentCloud.Functions.Program;

namespace DecentCloud.Benchmarks;

/// <summary>The real function app, built in the benchmark's process with the benchmark's settings.</summary>
internal static class InProcessApp
{
    /// <param name="settings">Set after the benchmark's own (configuration keys, <c>:</c> between sections).</param>
    /// <param name="configure">Adds functions or services before the app is built.</param>
    public static WebApplication Create(
        string connectionString,
        string scriptRoot,
        IReadOnlyDictionary<string, string>? settings = null,
        Action<FunctionsApplicationBuilder>? configure = null) =>
        FunctionApp.Create([], scriptRoot, builder =>
        {
            // Port 0: Kestrel binds a free loopback port; the benchmark reads it back once the app has started.
            var values = AppSettings.For(connectionString, port: 0)
                .ToDictionary(setting => setting.Key.Replace("__", ":", StringComparison.Ordinal), setting => (string?)setting.Value, StringComparer.OrdinalIgnoreCase);

            // Raising every level that host.json (or anything else) sets below Warning keeps the host's start and
            // stop lines, and any per-message or per-request Information line, off the benchmark's console.
            values["Logging:LogLevel:Default"] = nameof(LogLevel.Warning);
            foreach (var category in builder.Configuration.GetSection("Logging:LogLevel").GetChildren())
            {
                if (!Enum.TryParse<LogLevel>(category.Value, ignoreCase: true, out var level) || level < LogLevel.Warning)
                {
                    values[category.Path] = nameof(LogLevel.Warning);
                }
            }

            foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            {
                values[key] = value;
            }

            builder.Configuration.AddInMemoryCollection(values);
            configure?.Invoke(builder);
        });
}
