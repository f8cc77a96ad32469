using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DecentCloud.Shared.Signing;

namespace DecentCloud.Agent.Api;

/// <summary>
/// The agent endpoints of the Decent Cloud API, called as this agent: every request is signed with the agent key
/// (<see cref="SigningHandler"/>) and carries the key again in <c>X-Agent-Pubkey</c>, under the provider's route.
/// </summary>
internal sealed class AgentApiClient
{
    public const string AgentPubkeyHeader = "X-Agent-Pubkey";

    private readonly HttpClient http;
    private readonly string providerPath;

    /// <param name="http">Signs with the agent key; its base address is the API base URL with a trailing slash.</param>
    public AgentApiClient(HttpClient http, string providerPubkey, string agentPubkey)
    {
        this.http = http;
        providerPath = $"v1/providers/{Uri.EscapeDataString(providerPubkey)}";
        http.DefaultRequestHeaders.Remove(AgentPubkeyHeader);
        http.DefaultRequestHeaders.Add(AgentPubkeyHeader, agentPubkey);
    }

    public static HttpClient CreateHttpClient(Uri apiBaseUrl, Ed25519phKey key, TimeProvider time, HttpMessageHandler? inner = null) =>
        new(new SigningHandler(key, time, inner ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
        {
            BaseAddress = WithTrailingSlash(apiBaseUrl),
            Timeout = TimeSpan.FromSeconds(30),
        };

    public static Uri WithTrailingSlash(Uri url) => url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");

    public Task<PendingWork> GetPendingAsync(CancellationToken cancellationToken) =>
        SendAsync<PendingWork>(HttpMethod.Get, $"{providerPath}/provisioning/pending", body: null, cancellationToken);

    public Task<LockAnswer> LockAsync(string contractId, int? leaseSeconds, CancellationToken cancellationToken) =>
        SendAsync<LockAnswer>(HttpMethod.Post, ContractPath(contractId, "lock"), new LockRequest(leaseSeconds), cancellationToken);

    public Task UnlockAsync(string contractId, CancellationToken cancellationToken) =>
        SendAsync<JsonElement?>(HttpMethod.Delete, ContractPath(contractId, "lock"), body: null, cancellationToken);

    public Task ReportProvisioningAsync(string contractId, ProvisioningReport report, CancellationToken cancellationToken) =>
        SendAsync<JsonElement?>(HttpMethod.Post, ContractPath(contractId, "provisioning"), report, cancellationToken);

    public Task ReportTerminatedAsync(string contractId, string? message, CancellationToken cancellationToken) =>
        SendAsync<JsonElement?>(HttpMethod.Post, ContractPath(contractId, "terminated"), new TerminatedReport(message), cancellationToken);

    public Task ReportHealthAsync(string contractId, HealthReport report, CancellationToken cancellationToken) =>
        SendAsync<JsonElement?>(HttpMethod.Post, ContractPath(contractId, "health"), report, cancellationToken);

    public Task<HeartbeatAnswer> HeartbeatAsync(Heartbeat heartbeat, CancellationToken cancellationToken) =>
        SendAsync<HeartbeatAnswer>(HttpMethod.Post, $"{providerPath}/heartbeat", heartbeat, cancellationToken);

    public Task<ReconcileAnswer> ReconcileAsync(ReconcileRequest request, CancellationToken cancellationToken) =>
        SendAsync<ReconcileAnswer>(HttpMethod.Post, $"{providerPath}/reconcile", request, cancellationToken);

    private string ContractPath(string contractId, string action) =>
        $"{providerPath}/contracts/{Uri.EscapeDataString(contractId)}/{action}";

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: AgentJson.Options);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new AgentApiException(method, path, status: null, problem: null, ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AgentApiException(method, path, status: null, problem: null, ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new AgentApiException(method, path, response.StatusCode, await ReadProblemAsync(response, cancellationToken), inner: null);
            }

            if (response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0)
            {
                return default!;
            }

            try
            {
                return (await response.Content.ReadFromJsonAsync<T>(AgentJson.Options, cancellationToken))!;
            }
            catch (JsonException ex)
            {
                throw new AgentApiException(method, path, response.StatusCode, "the answer is not the JSON the agent expects", ex);
            }
        }
    }

    private static async Task<string?> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            string? Field(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) ? value.ToString() : null;
            var parts = new[] { Field("title"), Field("detail"), Field("check") is { } check ? $"check: {check}" : null, Field("code") is { } code ? $"code: {code}" : null };
            return string.Join("; ", parts.Where(part => !string.IsNullOrEmpty(part)));
        }
        catch (JsonException)
        {
            return text.Length > 300 ? text[..300] : text;
        }
    }
}

/// <summary>An agent API call that did not succeed: no answer (<see cref="Status"/> null) or an error status.</summary>
internal sealed class AgentApiException(HttpMethod method, string path, HttpStatusCode? status, string? problem, Exception? inner)
    : Exception(Describe(method, path, status, problem, inner), inner)
{
    public HttpStatusCode? Status { get; } = status;

    public string? Problem { get; } = problem;

    /// <summary>Worth trying again later: no answer, a server error, or too many requests.</summary>
    public bool IsTransient => Status is null or HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError;

    private static string Describe(HttpMethod method, string path, HttpStatusCode? status, string? problem, Exception? inner) =>
        status is null
            ? $"{method} {path}: no answer ({inner?.Message})"
            : $"{method} {path}: {(int)status} {status}{(problem is null ? "" : $" ({problem})")}";
}
