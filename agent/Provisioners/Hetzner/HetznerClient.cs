using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Agent.Provisioners.Hetzner;

/// <summary>An error answer of the Hetzner API: its status, and its own <c>code</c>, <c>message</c> and <c>details</c>.</summary>
internal sealed class HetznerApiException(string message, HttpStatusCode status, string? code, string? apiMessage, string? details, Exception? inner = null)
    : HttpRequestException(message, inner, status)
{
    public string? Code { get; } = code;

    public string? ApiMessage { get; } = apiMessage;

    /// <summary>The error's <c>details</c> object as JSON, if it had one.</summary>
    public string? Details { get; } = details;

    public int Status => (int)status;

    /// <summary>A 5xx: the request may or may not have been carried out.</summary>
    public bool IsServerError => Status >= 500;
}

/// <summary>Whether a request may be sent again when its outcome is unknown (5xx, no answer).</summary>
internal enum HetznerRetry
{
    /// <summary>Reads, deletes, power actions: sending them twice does no harm.</summary>
    Always,

    /// <summary>Creates: sent again only when the API refused it (429, 409 <c>conflict</c>, 423 <c>locked</c>); the caller looks first otherwise.</summary>
    OnlyWhenRefused,
}

/// <summary>How long the client waits between tries and for actions; tests make these short.</summary>
internal sealed record HetznerTiming(TimeSpan BackoffBase, TimeSpan BackoffCap, TimeSpan RateLimitWaitCap, TimeSpan ActionPollInterval)
{
    public static HetznerTiming Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(2));
}

/// <summary>
/// The Hetzner Cloud API over a plain <see cref="HttpClient"/>: the bearer token, the rate-limit headers, retries of
/// 429, 5xx and timeouts with back-off, error answers as <see cref="HetznerApiException"/>, and paging through lists.
/// </summary>
internal sealed class HetznerClient(HttpClient http, Func<string> token, int maxRetries, TimeSpan requestTimeout, HetznerTiming timing, TimeProvider time, ILogger logger)
{
    /// <summary>The most a list page may hold (the API's own maximum).</summary>
    public const int PageSize = 50;

    private const string LimitHeader = "RateLimit-Limit";
    private const string RemainingHeader = "RateLimit-Remaining";
    private const string ResetHeader = "RateLimit-Reset";

    /// <summary>No request before this time: the last answer said no requests were left.</summary>
    private DateTimeOffset notBefore = DateTimeOffset.MinValue;

    public static HttpClient CreateHttpClient(Uri baseUrl) =>
        // Each try has its own timeout (requestTimeout); the client's own would cut a whole retry sequence short.
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/"),
            Timeout = Timeout.InfiniteTimeSpan,
        };

    public async Task<IReadOnlyList<HetznerServer>> ListServersAsync(string labelSelector, CancellationToken cancellationToken) =>
        await ListAllAsync<HetznerServer>("servers", "servers", [("label_selector", labelSelector)], cancellationToken);

    /// <summary>The server; null when the API answers 404.</summary>
    public async Task<HetznerServer?> GetServerAsync(long id, CancellationToken cancellationToken)
    {
        var answer = await SendOrNotFoundAsync(HttpMethod.Get, $"servers/{id}", cancellationToken);
        return answer?.GetProperty("server").Deserialize<HetznerServer>(HetznerJson.Options);
    }

    public async Task<HetznerCreateServerAnswer> CreateServerAsync(HetznerCreateServerRequest request, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Post, "servers", request, HetznerRetry.OnlyWhenRefused, cancellationToken))
        .Deserialize<HetznerCreateServerAnswer>(HetznerJson.Options)!;

    /// <summary>Deletes the server; its action, or null when it was gone already (404).</summary>
    public async Task<HetznerAction?> DeleteServerAsync(long id, CancellationToken cancellationToken) =>
        ActionOf(await SendOrNotFoundAsync(HttpMethod.Delete, $"servers/{id}", cancellationToken));

    public async Task<HetznerAction> ServerActionAsync(long id, string action, CancellationToken cancellationToken) =>
        ActionOf(await SendAsync(HttpMethod.Post, $"servers/{id}/actions/{action}", body: null, HetznerRetry.Always, cancellationToken))!;

    public async Task<HetznerResetPasswordAnswer> ResetPasswordAsync(long id, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Post, $"servers/{id}/actions/reset_password", body: null, HetznerRetry.Always, cancellationToken))
        .Deserialize<HetznerResetPasswordAnswer>(HetznerJson.Options)!;

    public async Task<HetznerAction> GetActionAsync(long id, CancellationToken cancellationToken) =>
        ActionOf(await SendAsync(HttpMethod.Get, $"actions/{id}", body: null, HetznerRetry.Always, cancellationToken))!;

    /// <summary>Uploads a key; a 409 <c>uniqueness_error</c> (name or fingerprint taken) comes back as <see cref="HetznerApiException"/>.</summary>
    public async Task<HetznerSshKey> CreateSshKeyAsync(HetznerCreateSshKeyRequest request, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Post, "ssh_keys", request, HetznerRetry.Always, cancellationToken))
        .GetProperty("ssh_key").Deserialize<HetznerSshKey>(HetznerJson.Options)!;

    public async Task<IReadOnlyList<HetznerSshKey>> ListSshKeysAsync(string filter, string value, CancellationToken cancellationToken) =>
        await ListAllAsync<HetznerSshKey>("ssh_keys", "ssh_keys", [(filter, value)], cancellationToken);

    /// <summary>Deletes the key; false when it was gone already (404).</summary>
    public async Task<bool> DeleteSshKeyAsync(long id, CancellationToken cancellationToken) =>
        await SendOrNotFoundAsync(HttpMethod.Delete, $"ssh_keys/{id}", cancellationToken) is not null;

    public async Task<IReadOnlyList<HetznerServerType>> FindServerTypesAsync(string name, CancellationToken cancellationToken) =>
        await ListAllAsync<HetznerServerType>("server_types", "server_types", [("name", name)], cancellationToken);

    public async Task<IReadOnlyList<HetznerImage>> FindImagesAsync(string name, string? architecture, CancellationToken cancellationToken) =>
        await ListAllAsync<HetznerImage>("images", "images", architecture is null ? [("name", name)] : [("name", name), ("architecture", architecture)], cancellationToken);

    public async Task<IReadOnlyList<HetznerLocation>> FindLocationsAsync(string name, CancellationToken cancellationToken) =>
        await ListAllAsync<HetznerLocation>("locations", "locations", [("name", name)], cancellationToken);

    /// <summary>Polls the action until it ends (<c>success</c> or <c>error</c>); a <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public async Task<HetznerAction> WaitForActionAsync(HetznerAction action, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (action.Status == HetznerActionStatus.Running)
        {
            if (time.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"Hetzner action {action.Id} ({action.Command}) did not end within {timeout.TotalSeconds:0} s (progress {action.Progress} %).");
            }
            // Polling counts against the hourly rate limit: not more often than the poll interval.
            await Task.Delay(timing.ActionPollInterval, time, cancellationToken);
            action = await GetActionAsync(action.Id, cancellationToken);
        }
        return action;
    }

    /// <summary>
    /// Every item of a list, page by page (<c>page</c>, <c>per_page</c>, following <c>meta.pagination.next_page</c>).
    /// </summary>
    private async Task<List<T>> ListAllAsync<T>(string path, string property, IReadOnlyList<(string Name, string Value)> filters, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        long? page = 1;
        for (var pages = 0; page is { } current; pages++)
        {
            if (pages == 1000)
            {
                throw new InvalidOperationException($"Hetzner API {path}: more than 1000 pages; the paging does not end.");
            }
            var query = string.Join("&", filters.Append(("page", current.ToString(CultureInfo.InvariantCulture))).Append(("per_page", PageSize.ToString(CultureInfo.InvariantCulture)))
                .Select(pair => $"{pair.Item1}={Uri.EscapeDataString(pair.Item2)}"));
            var answer = await SendAsync(HttpMethod.Get, $"{path}?{query}", body: null, HetznerRetry.Always, cancellationToken);
            items.AddRange(answer.GetProperty(property).Deserialize<List<T>>(HetznerJson.Options)!);
            page = answer.TryGetProperty("meta", out var meta) && meta.GetProperty("pagination").GetProperty("next_page") is { ValueKind: JsonValueKind.Number } next
                ? next.GetInt64()
                : null;
        }
        return items;
    }

    private async Task<JsonElement?> SendOrNotFoundAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync(method, path, body: null, HetznerRetry.Always, cancellationToken);
        }
        catch (HetznerApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static HetznerAction? ActionOf(JsonElement? answer) =>
        answer is { } found && found.TryGetProperty("action", out var action) ? action.Deserialize<HetznerAction>(HetznerJson.Options) : null;

    /// <summary>
    /// One call, tried again on a 429 (after the wait the rate-limit headers give), on 409 <c>conflict</c> and 423
    /// <c>locked</c> (the API refused it; an action still runs), and, when <paramref name="retry"/> allows, on a 5xx or
    /// no answer within the request timeout, with doubling back-off; at most <c>max_retries</c> more tries.
    /// </summary>
    private async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, HetznerRetry retry, CancellationToken cancellationToken)
    {
        var tries = maxRetries + 1;
        for (var attempt = 1; ; attempt++)
        {
            await WaitForRateLimitAsync(cancellationToken);
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token());
            if (body is not null)
            {
                request.Content = JsonContent.Create(body, body.GetType(), options: HetznerJson.Options);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(requestTimeout);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                var problem = ex is OperationCanceledException ? $"no answer within {requestTimeout.TotalSeconds:0.###} s" : $"no connection: {ex.Message}";
                if (retry == HetznerRetry.Always && attempt < tries)
                {
                    await BackOffAsync(method, path, problem, attempt, tries, cancellationToken);
                    continue;
                }
                throw ex is OperationCanceledException
                    ? new TimeoutException($"Hetzner API {method} {path}: {problem} (try {attempt} of {tries}).", ex)
                    : new HttpRequestException($"Hetzner API {method} {path}: {problem} (try {attempt} of {tries}).", ex);
            }

            using (response)
            {
                var (limit, remaining, reset) = ReadRateLimit(response);
                if (remaining == 0)
                {
                    notBefore = time.GetUtcNow() + RefillInterval(limit);
                }

                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
                }

                var error = ReadError(method, path, response.StatusCode, text);
                if (attempt < tries && response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    var wait = RateLimitWait(response, limit, reset, attempt);
                    HetznerLog.RateLimited(logger, method.Method, path, limit, remaining, (long)wait.TotalMilliseconds);
                    await Task.Delay(wait, time, cancellationToken);
                    continue;
                }
                var refused = error.Code is "conflict" or "locked";
                if (attempt < tries && (refused || (retry == HetznerRetry.Always && error.IsServerError)))
                {
                    await BackOffAsync(method, path, $"{error.Status} {error.Code}: {error.ApiMessage}", attempt, tries, cancellationToken);
                    continue;
                }
                throw error;
            }
        }
    }

    private async Task BackOffAsync(HttpMethod method, string path, string problem, int attempt, int tries, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromTicks(Math.Min(timing.BackoffCap.Ticks, timing.BackoffBase.Ticks << Math.Min(attempt - 1, 20)));
        HetznerLog.Retrying(logger, method.Method, path, problem, attempt + 1, tries, (long)delay.TotalMilliseconds);
        await Task.Delay(delay, time, cancellationToken);
    }

    private async Task WaitForRateLimitAsync(CancellationToken cancellationToken)
    {
        var wait = notBefore - time.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait < timing.RateLimitWaitCap ? wait : timing.RateLimitWaitCap, time, cancellationToken);
        }
    }

    /// <summary>
    /// The API's rate limit refills gradually: at <c>RateLimit-Limit</c> requests an hour, one request comes back every
    /// 3600 / limit seconds (one a second at the default 3600). <c>RateLimit-Reset</c> is when the whole bucket is full.
    /// </summary>
    private static TimeSpan RefillInterval(int? limit) =>
        limit is > 0 ? TimeSpan.FromSeconds(Math.Max(3600.0 / limit.Value, 0.001)) : TimeSpan.FromSeconds(1);

    /// <summary>
    /// After a 429: a <c>Retry-After</c> if the answer has one (the API does not document it, but a proxy may send it);
    /// else one refill interval, doubling with each 429 in a row, never past <c>RateLimit-Reset</c> (by then every
    /// request is back), at most the cap.
    /// </summary>
    private TimeSpan RateLimitWait(HttpResponseMessage response, int? limit, DateTimeOffset? reset, int attempt)
    {
        var now = time.GetUtcNow();
        TimeSpan wait;
        if (response.Headers.RetryAfter is { } retryAfter)
        {
            wait = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - now : TimeSpan.Zero);
        }
        else
        {
            wait = TimeSpan.FromTicks(RefillInterval(limit).Ticks << Math.Min(attempt - 1, 20));
            if (reset is { } full && full - now < wait)
            {
                wait = full - now;
            }
        }
        if (wait < TimeSpan.Zero)
        {
            wait = TimeSpan.Zero;
        }
        return wait < timing.RateLimitWaitCap ? wait : timing.RateLimitWaitCap;
    }

    private static (int? Limit, int? Remaining, DateTimeOffset? Reset) ReadRateLimit(HttpResponseMessage response)
    {
        static long? Header(HttpResponseMessage response, string name) =>
            response.Headers.TryGetValues(name, out var values) && long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
                ? value
                : null;

        var reset = Header(response, ResetHeader);
        return ((int?)Header(response, LimitHeader), (int?)Header(response, RemainingHeader), reset is { } seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null);
    }

    /// <summary>The answer's <c>{"error": {code, message, details}}</c>, kept as the API wrote it.</summary>
    private static HetznerApiException ReadError(HttpMethod method, string path, HttpStatusCode status, string text)
    {
        string? code = null;
        string? message = null;
        string? details = null;
        try
        {
            if (text.Length > 0 && JsonDocument.Parse(text).RootElement is { ValueKind: JsonValueKind.Object } root
                && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                code = error.TryGetProperty("code", out var c) ? c.GetString() : null;
                message = error.TryGetProperty("message", out var m) ? m.GetString() : null;
                details = error.TryGetProperty("details", out var d) && d.ValueKind == JsonValueKind.Object ? d.GetRawText() : null;
            }
        }
        catch (JsonException)
        {
            // Not the API's error shape (a proxy's page): the status and the start of the text say what happened.
            message = text.Length > 200 ? text[..200] : text;
        }

        var said = new StringBuilder($"Hetzner API {method} {path} answered {(int)status}");
        if (code is not null)
        {
            said.Append(CultureInfo.InvariantCulture, $" {code}");
        }
        if (message is not null)
        {
            said.Append(CultureInfo.InvariantCulture, $": {message}");
        }
        if (details is not null)
        {
            said.Append(CultureInfo.InvariantCulture, $" (details {details})");
        }
        return new HetznerApiException(said.ToString(), status, code, message, details);
    }
}
