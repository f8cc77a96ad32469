using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace DecentCloud.Agent.Provisioners.Proxmox;

/// <summary>
/// Proxmox VE's REST API (<c>https://host:8006/api2/json</c>) with an API token. Every answer is <c>{"data": …}</c>; an
/// error keeps Proxmox's status, <c>message</c> and per-parameter <c>errors</c> in a <see cref="ProxmoxApiException"/>.
/// Bodies are form-encoded, booleans sent as <c>0</c>/<c>1</c>. The token is only ever in the Authorization header.
/// </summary>
/// <param name="setupProblem">Why the client cannot work (the token's file could not be read); every call fails with it.</param>
internal sealed class ProxmoxClient(HttpClient http, CertificatePin? pin, ILogger logger, string? setupProblem = null)
{
    public const string ApiPath = "api2/json/";

    /// <summary>An HttpClient for <paramref name="options"/>: base address, token header, timeout and the certificate pin.</summary>
    public static (HttpClient Http, CertificatePin? Pin) CreateHttpClient(ProxmoxOptions options, string tokenSecret, HttpMessageHandler? inner = null)
    {
        var pin = string.IsNullOrWhiteSpace(options.Fingerprint) ? null : new CertificatePin(options.Fingerprint);
        var handler = inner ?? new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions = pin is null ? new SslClientAuthenticationOptions() : new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = pin.Validate },
        };
        var baseUrl = options.ApiUrl!.AbsoluteUri.TrimEnd('/') + "/" + ApiPath;
        var http = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(options.RequestTimeoutSeconds) };
        // PVEAPIToken=USER@REALM!TOKENID=UUID; added without validation because the value holds '@', '!' and '='.
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", $"PVEAPIToken={options.TokenId}={tokenSecret}");
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return (http, pin);
    }

    public Uri? BaseAddress => http.BaseAddress;

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken, params (string Name, string Value)[] query) =>
        SendAsync(HttpMethod.Get, path, query, form: null, cancellationToken);

    public Task<JsonElement> PostAsync(string path, IEnumerable<(string Name, string Value)> form, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, path, [], form, cancellationToken);

    public Task<JsonElement> PutAsync(string path, IEnumerable<(string Name, string Value)> form, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, path, [], form, cancellationToken);

    public Task<JsonElement> DeleteAsync(string path, CancellationToken cancellationToken, params (string Name, string Value)[] query) =>
        SendAsync(HttpMethod.Delete, path, query, form: null, cancellationToken);

    /// <summary>Sends one request and answers its <c>data</c>; never retries (Proxmox writes are plain RPC calls).</summary>
    private async Task<JsonElement> SendAsync(HttpMethod method, string path, (string Name, string Value)[] query,
        IEnumerable<(string Name, string Value)>? form, CancellationToken cancellationToken)
    {
        if (setupProblem is not null)
        {
            throw new InvalidOperationException(setupProblem);
        }
        var target = query.Length == 0 ? path : $"{path}?{string.Join('&', query.Select(p => $"{Uri.EscapeDataString(p.Name)}={Uri.EscapeDataString(p.Value)}"))}";
        using var request = new HttpRequestMessage(method, target);
        if (form is not null)
        {
            request.Content = new FormUrlEncodedContent(form.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)));
        }

        var watch = Stopwatch.StartNew();
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Proxmox {method} /{path} did not answer within {http.Timeout.TotalSeconds:0} s.", ex);
        }
        catch (HttpRequestException ex) when (pin?.Refused is { } presented && IsTlsFailure(ex))
        {
            throw new HttpRequestException(
                $"The Proxmox host {http.BaseAddress?.GetLeftPart(UriPartial.Authority)} presented a certificate with SHA-256 fingerprint {presented}, "
                + $"but [proxmox] fingerprint is {pin.Expected}: the connection was refused. If the host's certificate was renewed, "
                + "check the new one ('pvenode cert info' on the host) and update the setting.", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new HttpRequestException($"Proxmox {method} /{path} failed: {ex.Message}", ex, ex.StatusCode);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            ProxmoxLog.Answered(logger, method.Method, path, (int)response.StatusCode, watch.ElapsedMilliseconds);
            JsonElement? body = null;
            if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType == "application/json")
            {
                try
                {
                    body = JsonDocument.Parse(text).RootElement.Clone();
                }
                catch (JsonException ex) when (!response.IsSuccessStatusCode)
                {
                    // An error page from a proxy in front of the host: the status and reason phrase say enough.
                    ProxmoxLog.UnreadableError(logger, method.Method, path, ex);
                }
            }

            if (!response.IsSuccessStatusCode)
            {
                throw ProxmoxApiException.From(method.Method, path, (int)response.StatusCode, response.ReasonPhrase, body);
            }
            if (body is not { ValueKind: JsonValueKind.Object } envelope || !envelope.TryGetProperty("data", out var data))
            {
                throw new InvalidOperationException($"Proxmox {method} /{path} answered {(int)response.StatusCode} without a {{\"data\": …}} JSON body.");
            }
            return data;
        }
    }

    private static bool IsTlsFailure(HttpRequestException ex) =>
        ex.HttpRequestError == HttpRequestError.SecureConnectionError || ex.InnerException is AuthenticationException;
}

/// <summary>
/// Trusts exactly the certificate with the configured SHA-256 fingerprint, whoever signed it: Proxmox hosts usually
/// serve a self-signed certificate, which the system's CAs would refuse.
/// </summary>
internal sealed class CertificatePin(string fingerprint)
{
    public string Expected { get; } = Normalize(fingerprint);

    /// <summary>The fingerprint of the last certificate refused, for the error message.</summary>
    public string? Refused { get; private set; }

    public static string Normalize(string fingerprint) => fingerprint.Trim().ToUpperInvariant();

    public static string Of(X509Certificate certificate) =>
        string.Join(':', SHA256.HashData(certificate.GetRawCertData()).Select(b => b.ToString("X2", CultureInfo.InvariantCulture)));

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return false;
        }
        var presented = Of(certificate);
        if (string.Equals(presented, Expected, StringComparison.Ordinal))
        {
            return true;
        }
        Refused = presented;
        return false;
    }
}

/// <summary>A Proxmox API error: its status, its <c>message</c> (or the reason phrase of older hosts), and per-parameter <c>errors</c>.</summary>
internal sealed class ProxmoxApiException(string method, string path, int status, string proxmoxMessage, IReadOnlyDictionary<string, string> errors)
    : HttpRequestException(Describe(method, path, status, proxmoxMessage, errors), null, (System.Net.HttpStatusCode)status)
{
    public string Method { get; } = method;

    public string Path { get; } = path;

    public int Status { get; } = status;

    public string ProxmoxMessage { get; } = proxmoxMessage;

    public IReadOnlyDictionary<string, string> Errors { get; } = errors;

    /// <summary>Any of its texts contains <paramref name="text"/> (Proxmox says what went wrong only in words).</summary>
    public bool Says(string text) =>
        ProxmoxMessage.Contains(text, StringComparison.OrdinalIgnoreCase) || Errors.Values.Any(e => e.Contains(text, StringComparison.OrdinalIgnoreCase));

    public static ProxmoxApiException From(string method, string path, int status, string? reason, JsonElement? body)
    {
        var message = body is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
            ? m.GetString()!.Trim()
            : reason ?? "";
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (body is { ValueKind: JsonValueKind.Object } withErrors && withErrors.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in e.EnumerateObject())
            {
                errors[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()!.Trim() : property.Value.GetRawText();
            }
        }
        return new ProxmoxApiException(method, path, status, message, errors);
    }

    private static string Describe(string method, string path, int status, string message, IReadOnlyDictionary<string, string> errors) =>
        $"Proxmox {method} /{path} answered {status}: {message}"
        + (errors.Count == 0 ? "" : $" ({string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}"))})");
}

/// <summary>A Proxmox task (UPID) that ended with an exit status other than OK: the status is Proxmox's own error text.</summary>
internal sealed class ProxmoxTaskException(string what, string upid, string exitStatus)
    : InvalidOperationException($"Proxmox task {what} failed: {exitStatus} (task {upid})")
{
    public string Upid { get; } = upid;

    public string ExitStatus { get; } = exitStatus;
}
