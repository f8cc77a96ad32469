using DecentCloud.FunctionsHost.Worker;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Durable;

/// <summary>The task hub, once started, for the invocations of functions that declare a durable client binding.</summary>
internal sealed class DurableClientBindings
{
    public LocalTaskHub? Hub { get; set; }

    public void AddTo(FunctionDescriptor function, InvocationRequest request)
    {
        if (Hub is { } hub)
        {
            DurableFunctions.AddClientBindings(function, request, hub);
        }
    }
}
