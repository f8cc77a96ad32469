using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Queues.Models;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Platform.Http;
using DecentCloud.Functions.Platform.Queues;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace DecentCloud.Functions.TestApp;

public sealed record SignedEcho(string PublicKey, string Body);

public sealed record Order(string OfferingId, int Hours);

public sealed record AgentSeen(string Agent, string Provider);

public sealed record WorkItem(string Id, int Size);

/// <summary>Signed test functions: the verified caller's key and the body as the function read it after the check.</summary>
public static class SignedEchoes
{
    [Function("EchoSigned")]
    [Signed]
    public static Task<Ok<SignedEcho>> EchoGet(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/test/signed")] HttpRequest request, CancellationToken cancellationToken) =>
        EchoAsync(request, cancellationToken);

    [Function("EchoSignedPost")]
    [Signed]
    public static Task<Ok<SignedEcho>> EchoPost(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/test/signed")] HttpRequest request, CancellationToken cancellationToken) =>
        EchoAsync(request, cancellationToken);

    /// <summary>A signed function that reads its JSON body as a marketplace function does.</summary>
    [Function("PlaceOrder")]
    [Signed]
    public static async Task<Results<Ok<Order>, BadRequest>> PlaceOrder(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/test/orders")] HttpRequest request, CancellationToken cancellationToken)
    {
        var order = await JsonBodies.ReadAsync<Order>(request, cancellationToken);
        return order is null
            ? TypedResults.BadRequest()
            : TypedResults.Ok(order with { OfferingId = $"{order.OfferingId} for {SignedCaller.Of(request.HttpContext).PublicKeyHex[..8]}" });
    }

    private static async Task<Ok<SignedEcho>> EchoAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(cancellationToken);
        return TypedResults.Ok(new SignedEcho(SignedCaller.Of(request.HttpContext).PublicKeyHex, body));
    }
}

/// <summary>Agent test functions, one per permission they ask for: the agent and provider the delegation check found.</summary>
public static class AgentEchoes
{
    [Function("EchoAgentHeartbeat")]
    [Agent(AgentPermission.Heartbeat)]
    public static Ok<AgentSeen> Heartbeat([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/test/agent/heartbeat")] HttpRequest request) =>
        Seen(request);

    [Function("EchoAgentProvision")]
    [Agent(AgentPermission.Provision)]
    public static Ok<AgentSeen> Provision([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/test/agent/provision")] HttpRequest request) =>
        Seen(request);

    private static Ok<AgentSeen> Seen(HttpRequest request)
    {
        var caller = AgentCaller.Of(request.HttpContext);
        return TypedResults.Ok(new AgentSeen(caller.AgentKeyHex, caller.ProviderKeyHex));
    }
}

/// <summary>
/// Queue <c>%TEST_WORK_QUEUE%</c>: records each work item it is given on <c>%TEST_DONE_QUEUE%</c> (with the message's id), so
/// a test sees which messages were processed, and how often.
/// </summary>
public static class RecordsWork
{
    [Function(nameof(RecordsWork))]
    [QueueOutput("%TEST_DONE_QUEUE%")]
    public static string Run([QueueTrigger("%TEST_WORK_QUEUE%")] QueueMessage message)
    {
        var item = QueueJson.Read<WorkItem>(message);
        return $"{item.Id}:{item.Size}:{Convert.ToHexStringLower(SHA256.HashData(message.Body.ToArray()))}";
    }
}
