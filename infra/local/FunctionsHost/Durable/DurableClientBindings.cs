using DecentCloud.FunctionsHost.Worker;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Durable;

/// <summary>The task hub, once started, for the invocations of functions that declare a durable client binding.</summary>
internal sealed class DurableClientBindings
{
    private volatile LocalTaskHub? hub;

    /// <summary>Set once the hub runs, which may be after the host started (<see cref="TaskHubStarter"/>).</summary>
    public LocalTaskHub? Hub
    {
        get => hub;
        set => hub = value;
    }

    public void AddTo(FunctionDescriptor function, InvocationRequest request)
    {
        if (Hub is { } running)
        {
            DurableFunctions.AddClientBindings(function, request, running);
        }
    }
}
