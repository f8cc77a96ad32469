using System.Diagnostics;
using System.Text.Json.Nodes;
using DecentCloud.Testing;

namespace DecentCloud.Tests.Deploy;

/// <summary>
/// infra/main.bicep compiled once by infra/lint.sh (Bicep CLI from NuGet, linted with warnings as failures) and read as
/// the ARM template Azure receives. When the script fails, every test of the class fails with its output.
/// </summary>
public sealed class CompiledTemplate : IAsyncLifetime
{
    /// <summary>The first run downloads the Bicep CLI package; later runs take a few seconds.</summary>
    private static readonly TimeSpan LintTimeout = TimeSpan.FromMinutes(5);

    private readonly string _folder = Directory.CreateTempSubdirectory("dc-bicep-").FullName;

    public JsonObject Template { get; private set; } = new();

    public string LintOutput { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var compiled = Path.Combine(_folder, "main.json");
        var (exitCode, output) = await RunLintAsync(Path.Combine(RepositoryRoot.Path, "infra", "lint.sh"), compiled);
        if (exitCode != 0)
        {
            throw new InvalidOperationException(
                $"bash infra/lint.sh failed with exit code {exitCode}; the Bicep template was not compiled and linted clean " +
                $"(or the Bicep CLI could not be restored from NuGet). Its output:{Environment.NewLine}{output}");
        }

        LintOutput = output;
        Template = JsonNode.Parse(await File.ReadAllTextAsync(compiled))?.AsObject()
            ?? throw new InvalidOperationException($"infra/lint.sh wrote no template to {compiled}. Its output:{Environment.NewLine}{output}");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Runs a copy of infra/lint.sh and returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunLintAsync(string script, string? outFile = null)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        if (outFile is not null)
        {
            start.ArgumentList.Add("--out");
            start.ArgumentList.Add(outFile);
        }

        // The test host runs inside MSBuild's environment; the script's own dotnet restore and msbuild must not inherit it.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash could not be started");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(LintTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish within {LintTimeout}");
        }

        return (process.ExitCode, await output + await errors);
    }

    public JsonObject Parameter(string name) =>
        Template["parameters"]?[name]?.AsObject() ?? throw new KeyNotFoundException($"The template has no parameter {name}.");

    public IEnumerable<JsonObject> Resources(string type) =>
        Template["resources"]!.AsArray().Select(r => r!.AsObject()).Where(r => (string?)r["type"] == type);

    public JsonObject Resource(string type) =>
        Resources(type).SingleOrDefault() ?? throw new KeyNotFoundException($"The template has no single resource of type {type}.");

    /// <summary>
    /// The app settings resource's properties, <c>union(defaults, parameters('appSettings'), managed)</c>, split into its
    /// arguments; the last one is the settings the template manages, which the operator's appSettings cannot replace.
    /// </summary>
    public IReadOnlyList<string> AppSettingsUnion()
    {
        var settings = Resources("Microsoft.Web/sites/config").Single(r => ((string?)r["name"] ?? "").Contains("'appsettings'", StringComparison.Ordinal));
        var body = ArmExpression.Body((string?)settings["properties"] ?? "")
            ?? throw new InvalidOperationException("The app settings' properties are not an expression.");
        return ArmExpression.Arguments(body, "union");
    }

    /// <summary>The app settings the template manages: setting name to the ARM expression (or quoted literal) of its value.</summary>
    public IReadOnlyDictionary<string, string> ManagedAppSettings() => ArmExpression.CreateObject(AppSettingsUnion()[^1]);

    /// <summary>Role definition GUIDs a roleAssignments resource assigns (several for a copy loop over a variable array).</summary>
    public IReadOnlyList<string> RoleIds(JsonObject assignment)
    {
        var roleDefinitionId = (string)assignment["properties"]!["roleDefinitionId"]!;
        var role = ArmExpression.Arguments(ArmExpression.Body(roleDefinitionId)!, "subscriptionResourceId")[1];
        if (role.EndsWith("[copyIndex()]", StringComparison.Ordinal))
        {
            var array = ArmExpression.Arguments(role[..^"[copyIndex()]".Length], "variables")[0];
            return Template["variables"]![ArmExpression.StringLiteral(array)]!.AsArray()
                .Select(item => ResolveVariable((string)item!))
                .ToList();
        }

        return [ResolveVariable($"[{role}]")];
    }

    /// <summary>A literal, or <c>[variables('name').member]</c> read from the template's variables.</summary>
    private string ResolveVariable(string value)
    {
        var body = ArmExpression.Body(value);
        if (body is null)
        {
            return value;
        }

        if (body.StartsWith('\''))
        {
            return ArmExpression.StringLiteral(body);
        }

        var dot = body.IndexOf(").", StringComparison.Ordinal);
        if (!body.StartsWith("variables(", StringComparison.Ordinal) || dot < 0)
        {
            throw new FormatException($"Cannot read a role id from {value}");
        }

        var variable = ArmExpression.StringLiteral(ArmExpression.Arguments(body[..(dot + 1)], "variables")[0]);
        return (string)Template["variables"]![variable]![body[(dot + 2)..]]!;
    }
}
