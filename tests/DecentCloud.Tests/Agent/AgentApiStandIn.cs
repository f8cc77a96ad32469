using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace DecentCloud.Tests.Agent;

/// <summary>
/// A small stand-in of the agent API (the wire shapes of docs/agent.md) on a loopback port. Every request must be signed
/// by the agent key, carry it in X-Agent-Pubkey, use the provider's route, and send exactly the fields the API accepts;
/// anything else is answered 400/401/403 and written to <see cref="Violations"/>, which a test expects empty.
/// It moves contracts the way the orchestration would: lock → provisioning, provisioned report → provisioned.
/// </summary>
internal sealed class AgentApiStandIn : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly WebApplication app;
    private readonly RequestVerifier verifier = new(TimeProvider.System);

    private AgentApiStandIn(WebApplication app, string providerPubkey, string agentPubkey)
    {
        this.app = app;
        ProviderPubkey = providerPubkey;
        AgentPubkey = agentPubkey;
    }

    public string ProviderPubkey { get; }

    public string AgentPubkey { get; }

    public Uri BaseUrl => new(LoopbackServer.AddressOf(app), "api");

    public ConcurrentDictionary<string, Contract> Contracts { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<Call> Calls { get; } = new();

    public ConcurrentQueue<string> Violations { get; } = new();

    /// <summary>The next this many calls are answered 503 (the API being down).</summary>
    public int FailNext;

    public object HeartbeatAnswer { get; set; } = new { pollSeconds = 30, heartbeatSeconds = 60, healthCheckSeconds = 300 };

    /// <summary>The reconcile answer's terminate list, by external id.</summary>
    public ConcurrentDictionary<string, string> TerminateOnReconcile { get; } = new(StringComparer.Ordinal);

    public IEnumerable<Call> CallsTo(string method, string pathEnd) =>
        Calls.Where(call => call.Method == method && call.Path.EndsWith(pathEnd, StringComparison.Ordinal));

    public static async Task<AgentApiStandIn> StartAsync(string providerPubkey, string agentPubkey)
    {
        var builder = LoopbackServer.CreateBuilder();
        var app = builder.Build();
        var standIn = new AgentApiStandIn(app, providerPubkey, agentPubkey);
        app.Run(standIn.HandleAsync);
        await app.StartAsync();
        return standIn;
    }

    public Contract AddPaidContract(string contractId, string renterPubkey) =>
        Contracts[contractId] = new Contract(contractId, renterPubkey) { State = "accepted" };

    public ValueTask DisposeAsync() => app.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var target = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var call = new Call(request.Method, request.Path.Value!, body.Length == 0 ? null : JsonSerializer.Deserialize<JsonElement>(body));
        Calls.Enqueue(call);

        if (Interlocked.Decrement(ref FailNext) >= 0)
        {
            await Problem(context, 503, "down for the test");
            return;
        }

        if (request.Path == "/api/health")
        {
            await context.Response.WriteAsJsonAsync(new { status = "healthy" });
            return;
        }

        var verified = verifier.Verify(request.Method, target, SignatureHeaders.From(name => request.Headers[name].FirstOrDefault()), body);
        if (!verified.IsValid)
        {
            await Violation(context, 401, $"{request.Method} {target}: {verified}");
            return;
        }

        var segments = request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is not ["api", "v1", "providers", var provider, .. var rest] || provider != ProviderPubkey)
        {
            await Violation(context, 404, $"{request.Method} {target}: not under /api/v1/providers/{{provider}}");
            return;
        }

        if (rest is ["agent-delegations"])
        {
            await HandleDelegationAsync(context, verified.Request.PublicKeyHex, call.Body);
            return;
        }

        if (verified.Request.PublicKeyHex != AgentPubkey || request.Headers["X-Agent-Pubkey"] != AgentPubkey)
        {
            await Violation(context, 403, $"{request.Method} {target}: not signed by the agent key with X-Agent-Pubkey");
            return;
        }

        switch (request.Method, rest)
        {
            case ("GET", ["provisioning", "pending"]):
                await context.Response.WriteAsJsonAsync(Pending());
                return;
            case ("POST", ["heartbeat"]):
                if (Shape(call.Body, ["version", "provisioner", "capabilities", "activeContracts"], ["resources"]) is { } heartbeatProblem)
                {
                    await Violation(context, 400, $"heartbeat: {heartbeatProblem}");
                    return;
                }
                await context.Response.WriteAsJsonAsync(HeartbeatAnswer);
                return;
            case ("POST", ["reconcile"]):
                await HandleReconcileAsync(context, call.Body);
                return;
            case (_, ["contracts", var id, var action]) when Contracts.TryGetValue(id, out var contract):
                await HandleContractAsync(context, request.Method, action, contract, call.Body);
                return;
            default:
                await Problem(context, 404, "no such route or contract");
                return;
        }
    }

    private object Pending() => new
    {
        provision = Contracts.Values
            .Where(c => c.State is "accepted" or "provisioning" && (c.LockHolder is null || c.LockHolder == AgentPubkey))
            .Select(View).ToList(),
        terminate = Contracts.Values.Where(c => c.MarkedForTermination && c.Instance is not null && !c.Terminated).Select(View).ToList(),
        pollAfterSeconds = (int?)null,
    };

    private static object View(Contract c) => new
    {
        contractId = c.Id,
        offeringId = "offering-1",
        renterPubkey = c.RenterPubkey,
        sshKey = "ssh-ed25519 AAAA renter",
        hours = 24,
        state = c.State,
        paidAt = DateTimeOffset.UnixEpoch,
        @lock = c.LockHolder is null ? null : new { agentPubkey = c.LockHolder, expiresAt = DateTimeOffset.UtcNow.AddMinutes(10) },
        instance = c.Instance is null ? null : new { externalId = c.Instance.Value.GetProperty("externalId").GetString() },
    };

    private async Task HandleContractAsync(HttpContext context, string method, string action, Contract contract, JsonElement? body)
    {
        switch (method, action)
        {
            case ("POST", "lock"):
                if (Shape(body, [], ["leaseSeconds"]) is { } lockProblem)
                {
                    await Violation(context, 400, $"lock: {lockProblem}");
                    return;
                }
                if (contract.LockHolder is { } holder && holder != AgentPubkey)
                {
                    await Problem(context, 409, "lockHeld");
                    return;
                }
                contract.LockHolder = AgentPubkey;
                contract.Locks++;
                if (contract.State == "accepted")
                {
                    contract.State = "provisioning";
                }
                await context.Response.WriteAsJsonAsync(new { contractId = contract.Id, agentPubkey = AgentPubkey, expiresAt = DateTimeOffset.UtcNow.AddMinutes(10) });
                return;
            case ("POST", "provisioning"):
                if (contract.LockHolder != AgentPubkey)
                {
                    await Violation(context, 409, $"provisioning report for {contract.Id} without the lock");
                    return;
                }
                if (ProvisioningShape(body, contract.Id) is { } reportProblem)
                {
                    await Violation(context, 400, $"provisioning report: {reportProblem}");
                    return;
                }
                var status = body!.Value.GetProperty("status").GetString();
                contract.Reports.Enqueue(body.Value);
                if (status == "provisioned")
                {
                    contract.Instance = body.Value.GetProperty("instance").Clone();
                    contract.State = "provisioned";
                }
                else if (status == "failed")
                {
                    contract.State = "provisioningfailed";
                }
                context.Response.StatusCode = 202;
                await context.Response.WriteAsJsonAsync(new { contractId = contract.Id, status });
                return;
            case ("POST", "terminated"):
                if (Shape(body, [], ["message"]) is { } terminatedProblem)
                {
                    await Violation(context, 400, $"terminated: {terminatedProblem}");
                    return;
                }
                contract.Terminated = true;
                context.Response.StatusCode = 202;
                return;
            case ("POST", "health"):
                if (Shape(body, ["checkedAt", "status"], ["latencyMs", "details"]) is { } healthProblem
                    || body!.Value.GetProperty("status").GetString() is not ("healthy" or "unhealthy" or "unknown"))
                {
                    await Violation(context, 400, "health report not of the agreed shape");
                    return;
                }
                contract.Health.Enqueue(body.Value);
                context.Response.StatusCode = 202;
                return;
            case ("DELETE", "lock"):
                contract.LockHolder = null;
                context.Response.StatusCode = 204;
                return;
            default:
                await Problem(context, 404, "no such route");
                return;
        }
    }

    private async Task HandleReconcileAsync(HttpContext context, JsonElement? body)
    {
        if (Shape(body, ["instances"], []) is { } problem)
        {
            await Violation(context, 400, $"reconcile: {problem}");
            return;
        }
        var instances = body!.Value.GetProperty("instances").EnumerateArray()
            .Select(i => (ExternalId: i.GetProperty("externalId").GetString()!, ContractId: i.TryGetProperty("contractId", out var c) ? c.GetString() : null)).ToList();
        await context.Response.WriteAsJsonAsync(new
        {
            keep = instances.Where(i => !TerminateOnReconcile.ContainsKey(i.ExternalId)).Select(i => new { externalId = i.ExternalId, contractId = i.ContractId }),
            terminate = instances.Where(i => TerminateOnReconcile.ContainsKey(i.ExternalId)).Select(i => new { externalId = i.ExternalId, contractId = i.ContractId, reason = TerminateOnReconcile[i.ExternalId] }),
        });
    }

    private async Task HandleDelegationAsync(HttpContext context, string signer, JsonElement? body)
    {
        if (signer != ProviderPubkey)
        {
            await Violation(context, 403, "delegation not signed by the provider");
            return;
        }
        if (Shape(body, ["agentPublicKey", "permissions", "expiresAt"], ["label"]) is { } problem)
        {
            await Violation(context, 400, $"delegation: {problem}");
            return;
        }
        Delegation = body!.Value.Clone();
        await context.Response.WriteAsJsonAsync(new { agentPublicKey = AgentPubkey });
    }

    public JsonElement? Delegation { get; private set; }

    private static string? ProvisioningShape(JsonElement? body, string contractId)
    {
        if (Shape(body, ["status"], ["message", "instance"]) is { } problem)
        {
            return problem;
        }
        var status = body!.Value.GetProperty("status").GetString();
        if (status is not ("provisioning" or "provisioned" or "failed"))
        {
            return $"status '{status}'";
        }
        if (!body.Value.TryGetProperty("instance", out var instance))
        {
            return status == "provisioned" ? "provisioned without an instance" : null;
        }
        if (Shape(instance, ["externalId", "sshPort", "sealedCredentials"], ["ipv4", "ipv6", "hostname", "sshUser"]) is { } instanceProblem)
        {
            return $"instance: {instanceProblem}";
        }
        var sealedCredentials = instance.GetProperty("sealedCredentials");
        if (Shape(sealedCredentials, ["version", "ephemeralPubkey", "nonce", "ciphertext", "aad"], []) is { } sealedProblem)
        {
            return $"sealedCredentials: {sealedProblem}";
        }
        return Encoding.UTF8.GetString(Convert.FromBase64String(sealedCredentials.GetProperty("aad").GetString()!)) == contractId
            ? null
            : "aad is not the contract id";
    }

    /// <summary>Null when <paramref name="body"/> is an object with every required field and no field outside both lists.</summary>
    private static string? Shape(JsonElement? body, string[] required, string[] optional)
    {
        if (body is not { ValueKind: JsonValueKind.Object } value)
        {
            return required.Length == 0 && body is null ? null : "the body is not a JSON object";
        }
        var names = value.EnumerateObject().Select(p => p.Name).ToList();
        if (required.FirstOrDefault(r => !names.Contains(r)) is { } missing)
        {
            return $"'{missing}' is missing";
        }
        return names.FirstOrDefault(n => !required.Contains(n) && !optional.Contains(n)) is { } unknown ? $"'{unknown}' is not a field the API accepts" : null;
    }

    private async Task Violation(HttpContext context, int status, string what)
    {
        Violations.Enqueue(what);
        await Problem(context, status, what);
    }

    private static Task Problem(HttpContext context, int status, string title)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { title, status }, Json, "application/problem+json");
    }

    internal sealed record Call(string Method, string Path, JsonElement? Body);

    internal sealed class Contract(string id, string renterPubkey)
    {
        public string Id { get; } = id;
        public string RenterPubkey { get; } = renterPubkey;
        public string State { get; set; } = "accepted";
        public string? LockHolder { get; set; }
        public int Locks { get; set; }
        public JsonElement? Instance { get; set; }
        public bool MarkedForTermination { get; set; }
        public bool Terminated { get; set; }
        public ConcurrentQueue<JsonElement> Reports { get; } = new();
        public ConcurrentQueue<JsonElement> Health { get; } = new();
    }
}
