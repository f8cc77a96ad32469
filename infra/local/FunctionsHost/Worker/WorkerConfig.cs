using System.Text.Json;

namespace DecentCloud.FunctionsHost.Worker;

/// <summary>worker.config.json, which the Worker SDK writes into the app's output: how to start the worker process.</summary>
internal sealed record WorkerConfig(string Language, string ExecutablePath, string WorkerPath)
{
    public const string FileName = "worker.config.json";

    /// <summary>The app's name: its worker assembly's file name without the extension.</summary>
    public string AppName => Path.GetFileNameWithoutExtension(WorkerPath);

    public static WorkerConfig Load(string appDirectory)
    {
        var path = Path.Combine(appDirectory, FileName);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{appDirectory} holds no {FileName}: give the output folder of a built isolated-worker app (dotnet build or dotnet publish of a project with Microsoft.Azure.Functions.Worker.Sdk).");
        }

        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var description = document.RootElement.GetProperty("description");
            var language = Text(description, "language") ?? "dotnet-isolated";
            var executable = Text(description, "defaultExecutablePath") ?? "dotnet";
            var worker = Text(description, "defaultWorkerPath") ?? throw new InvalidOperationException($"{path} names no defaultWorkerPath.");
            return new WorkerConfig(language, executable, worker.Replace("{WorkerRoot}", "", StringComparison.Ordinal));
        }
        catch (Exception ex) when (ex is JsonException or IOException or KeyNotFoundException)
        {
            throw new InvalidOperationException($"reading {path}", ex);
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
