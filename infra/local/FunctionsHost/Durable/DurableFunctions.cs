using System.Text.Json;
using DecentCloud.FunctionsHost.Worker;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Durable;

/// <summary>
/// The durable triggers and the durable client binding, as the Functions host's Durable extension provides them to an
/// isolated worker: an <c>orchestrationTrigger</c> function is invoked with the base64 <c>OrchestratorRequest</c> as a
/// string and returns the base64 <c>OrchestratorResponse</c>; an <c>activityTrigger</c> function is invoked with its
/// input and returns its result; a <c>durableClient</c> input binding gets the JSON that points the worker's
/// DurableTaskClient at the task hub's gRPC endpoint.
/// </summary>
internal sealed class DurableFunctions(IReadOnlyList<FunctionDescriptor> functions, FunctionInvoker invoker) : IDurableFunctionInvoker
{
    public const string OrchestrationTrigger = "orchestrationTrigger";
    public const string ActivityTrigger = "activityTrigger";
    public const string DurableClient = "durableClient";

    private readonly Dictionary<string, FunctionDescriptor> orchestrators = ByName(functions, OrchestrationTrigger, "orchestration");
    private readonly Dictionary<string, FunctionDescriptor> activities = ByName(functions, ActivityTrigger, "activity");

    /// <summary>Whether the app has anything durable, and so needs a task hub.</summary>
    public static bool Needed(IEnumerable<FunctionDescriptor> functions) =>
        functions.Any(f => f.Trigger.Is(OrchestrationTrigger) || f.Trigger.Is(ActivityTrigger) || f.Inputs.Any(b => b.Is(DurableClient)));

    public async Task<string> RunOrchestratorAsync(string name, string instanceId, string encodedRequest, CancellationToken cancellationToken)
    {
        var function = orchestrators.GetValueOrDefault(name)
            ?? throw new InvalidOperationException($"No orchestrator function is named {name} (instance {instanceId}).");
        var request = new InvocationRequest();
        request.InputData.Add(new ParameterBinding { Name = function.Trigger.Name, Data = new TypedData { String = encodedRequest } });
        request.TriggerMetadata["instanceId"] = new TypedData { String = instanceId };
        var response = await invoker.InvokeAsync(function, request, cancellationToken);
        return Text(response.ReturnValue)
            ?? throw new InvalidOperationException($"Orchestrator {name} (instance {instanceId}) returned no OrchestratorResponse.");
    }

    public async Task<ActivityOutcome> RunActivityAsync(string name, string instanceId, string? input, CancellationToken cancellationToken)
    {
        if (!activities.TryGetValue(name, out var function))
        {
            return ActivityOutcome.Failed(new ActivityFailure(typeof(InvalidOperationException).FullName!, $"No activity function is named {name}.", null, IsNonRetriable: true));
        }

        var request = new InvocationRequest();
        request.InputData.Add(new ParameterBinding { Name = function.Trigger.Name, Data = input is null ? new TypedData() : new TypedData { Json = input } });
        request.TriggerMetadata["instanceId"] = new TypedData { String = instanceId };
        try
        {
            var response = await invoker.InvokeAsync(function, request, cancellationToken);
            return ActivityOutcome.Succeeded(Json(response.ReturnValue));
        }
        catch (FunctionInvocationException ex)
        {
            // The function ran and threw: the orchestration sees the worker's error, typed as in Azure.
            return ActivityOutcome.Failed(ex.InnerException is WorkerException reported
                ? ActivityFailure.FromWorker(reported.RemoteType, reported.RemoteMessage, reported.StackTrace)
                : ActivityFailure.From(ex));
        }
    }

    /// <summary>Adds the durable client binding's value to an invocation of a function that declares one.</summary>
    public static void AddClientBindings(FunctionDescriptor function, InvocationRequest request, LocalTaskHub hub)
    {
        // The bindings were read once, when the worker described its functions; nothing is parsed per invocation.
        foreach (var binding in function.Inputs.Where(b => b.Is(DurableClient)))
        {
            request.InputData.Add(new ParameterBinding { Name = binding.Name, Data = new TypedData { String = hub.ClientBindingJson } });
        }
    }

    private static Dictionary<string, FunctionDescriptor> ByName(IEnumerable<FunctionDescriptor> functions, string trigger, string nameProperty) =>
        functions.Where(f => f.Trigger.Is(trigger)).ToDictionary(f => f.Trigger.Text(nameProperty) ?? f.Name, StringComparer.OrdinalIgnoreCase);

    private static string? Text(TypedData? data) => data?.DataCase switch
    {
        TypedData.DataOneofCase.String => data.String,
        TypedData.DataOneofCase.Json => JsonSerializer.Deserialize<string>(data.Json),
        _ => null,
    };

    /// <summary>An activity's result as the task hub keeps it: JSON.</summary>
    private static string? Json(TypedData? data) => data?.DataCase switch
    {
        TypedData.DataOneofCase.Json => data.Json,
        TypedData.DataOneofCase.String => JsonSerializer.Serialize(data.String),
        TypedData.DataOneofCase.Int => data.Int.ToString(System.Globalization.CultureInfo.InvariantCulture),
        TypedData.DataOneofCase.Double => data.Double.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };
}
