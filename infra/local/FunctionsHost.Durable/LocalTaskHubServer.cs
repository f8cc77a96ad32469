using DurableTask.Core;
using DurableTask.Core.History;
using Grpc.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using P = Microsoft.DurableTask.Protobuf;

namespace DecentCloud.FunctionsHost.Durable;

/// <summary>
/// The DurableTask sidecar (<see cref="TaskHubGrpcServer"/>) with restart done as the Durable extension does it: the new
/// execution keeps the instance's tags. The sidecar's own restart starts it without tags, which the Azure Storage task
/// hub stores as none at all, and every later read of the instance (GetInstance, WaitForInstance...) then fails in the
/// sidecar on the missing tags.
/// </summary>
internal sealed class LocalTaskHubServer : TaskHubGrpcServer
{
    private readonly IOrchestrationServiceClient client;

    public LocalTaskHubServer(
        IHostApplicationLifetime lifetime,
        ILoggerFactory loggers,
        IOrchestrationService service,
        IOrchestrationServiceClient client,
        IOptions<TaskHubGrpcServerOptions> options)
        : base(lifetime, loggers, service, client, options)
    {
        this.client = client;
    }

    public override async Task<P.RestartInstanceResponse> RestartInstance(P.RestartInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var state = (await client.GetOrchestrationStateAsync(request.InstanceId, allExecutions: false)).FirstOrDefault()
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"An orchestration with the instanceId {request.InstanceId} was not found."));
        var instance = new OrchestrationInstance
        {
            InstanceId = request.RestartWithNewInstanceId ? Guid.NewGuid().ToString("N") : request.InstanceId,
            ExecutionId = Guid.NewGuid().ToString("N"),
        };
        var started = new ExecutionStartedEvent(-1, state.Input)
        {
            Name = state.Name,
            Version = state.Version ?? string.Empty,
            OrchestrationInstance = instance,
            Tags = state.Tags ?? new Dictionary<string, string>(),
        };
        await client.CreateTaskOrchestrationAsync(new TaskMessage { OrchestrationInstance = instance, Event = started });
        return new P.RestartInstanceResponse { InstanceId = instance.InstanceId };
    }
}
