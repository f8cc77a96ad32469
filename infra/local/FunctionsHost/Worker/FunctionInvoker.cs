using System.Diagnostics;
using DecentCloud.FunctionsHost.Durable;
using DecentCloud.FunctionsHost.Storage;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Worker;

/// <summary>
/// Sends invocations to the worker, each with the W3C trace context of the current activity (the worker needs one, and
/// its log lines of the invocation then carry the host's trace id), and writes the invocation's output bindings once it
/// succeeded. A failed invocation throws <see cref="FunctionInvocationException"/> with the worker's exception inside.
/// </summary>
internal sealed class FunctionInvoker(FunctionsWorker worker, OutputBindings outputs, DurableClientBindings durableClients)
{
    public async Task<InvocationResponse> InvokeAsync(FunctionDescriptor function, InvocationRequest request, CancellationToken cancellationToken)
    {
        request.FunctionId = function.Id;
        durableClients.AddTo(function, request);
        if (string.IsNullOrEmpty(request.InvocationId))
        {
            request.InvocationId = Guid.NewGuid().ToString();
        }

        var activity = Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current : null;
        var traceId = activity?.TraceId ?? ActivityTraceId.CreateRandom();
        request.TraceContext = new RpcTraceContext
        {
            TraceParent = activity?.Id ?? $"00-{traceId.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01",
            TraceState = activity?.TraceStateString ?? "",
        };
        request.TraceContext.Attributes["OperationName"] = function.Name;

        var response = await worker.Channel.InvokeAsync(request, function.Name, traceId.ToHexString(), cancellationToken);
        if (response.Result.Status != StatusResult.Types.Status.Success)
        {
            throw new FunctionInvocationException($"Function {function.Name} failed (invocation {request.InvocationId}).", WorkerException.From(response.Result.Exception));
        }

        await outputs.WriteAsync(function, response, cancellationToken);
        return response;
    }
}
