using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace DecentCloud.Agent.Provisioners.Docker;

/// <summary>
/// The Docker Engine API over its Unix socket or TCP (with TLS and a client certificate), every path under the pinned
/// version <c>/v1.47/</c>. A small client of its own rather than Docker.DotNet: each request is plain HTTP the tests'
/// stand-in checks against the published v1.47 spec, and the version prefix stays the one this code was written for.
/// </summary>
internal sealed class DockerClient(HttpClient http, string endpoint, TimeSpan requestTimeout) : IDisposable
{
    /// <summary>The Engine API version every path is prefixed with (docs/agent.md, "docker").</summary>
    public const string ApiVersion = "1.47";

    public string Endpoint => endpoint;

    /// <summary>An HTTP client for <paramref name="options"/>' endpoint: a Unix socket, or TCP with TLS when the TLS files are set.</summary>
    public static DockerClient Create(DockerOptions options)
    {
        var endpoint = new Uri(options.Endpoint);
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        Uri baseAddress;
        if (endpoint.Scheme == "unix")
        {
            var socketPath = endpoint.AbsolutePath;
            handler.ConnectCallback = (_, cancellationToken) => ConnectUnixAsync(socketPath, cancellationToken);
            // Any host name will do over a socket; the daemon does not look at it.
            baseAddress = new Uri($"http://docker/v{ApiVersion}/");
        }
        else if (options.UsesTls)
        {
            var clientCertificate = X509Certificate2.CreateFromPemFile(options.TlsCertFile!, options.TlsKeyFile!);
            var authority = X509CertificateLoader.LoadCertificateFromFile(options.TlsCaFile!);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [clientCertificate],
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsSignedBy(certificate, errors, authority),
            };
            baseAddress = new UriBuilder("https", endpoint.Host, endpoint.Port, $"v{ApiVersion}/").Uri;
        }
        else
        {
            baseAddress = new UriBuilder("http", endpoint.Host, endpoint.Port, $"v{ApiVersion}/").Uri;
        }

        // Each call sets its own deadline (a pull may take minutes, the rest seconds).
        var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        return new DockerClient(client, options.Endpoint, TimeSpan.FromSeconds(options.RequestTimeoutSeconds));
    }

    public Task<SystemVersion> VersionAsync(CancellationToken cancellationToken) =>
        SendAsync<SystemVersion>(HttpMethod.Get, "version", null, cancellationToken);

    public Task<SystemInfo> InfoAsync(CancellationToken cancellationToken) =>
        SendAsync<SystemInfo>(HttpMethod.Get, "info", null, cancellationToken);

    /// <summary>The containers (running or not) carrying the label <paramref name="label"/> (<c>key</c> or <c>key=value</c>).</summary>
    public Task<List<ContainerSummary>> ListContainersAsync(string label, CancellationToken cancellationToken)
    {
        var filters = JsonSerializer.Serialize(new Dictionary<string, string[]> { ["label"] = [label] });
        return SendAsync<List<ContainerSummary>>(HttpMethod.Get, $"containers/json?all=true&filters={Uri.EscapeDataString(filters)}", null, cancellationToken);
    }

    /// <summary>The container, or null when Docker does not know it (404).</summary>
    public async Task<ContainerInspect?> InspectContainerAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync<ContainerInspect>(HttpMethod.Get, $"containers/{Uri.EscapeDataString(id)}/json", null, cancellationToken);
        }
        catch (DockerApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Whether the image is in the daemon's local store.</summary>
    public async Task<bool> HasImageAsync(string image, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync<JsonElement>(HttpMethod.Get, $"images/{image}/json", null, cancellationToken);
            return true;
        }
        catch (DockerApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>Asks the image's registry (through the daemon) for the image's manifest: whether it exists and the daemon may pull it.</summary>
    public Task<JsonElement> DistributionInspectAsync(string image, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Get, $"distribution/{image}/json", null, cancellationToken);

    public Task<IdResponse> CreateContainerAsync(string name, ContainerCreateRequest request, CancellationToken cancellationToken) =>
        SendAsync<IdResponse>(HttpMethod.Post, $"containers/create?name={Uri.EscapeDataString(name)}", request, cancellationToken);

    /// <summary>Starts the container; one already running (304) counts as started.</summary>
    public Task StartContainerAsync(string id, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"containers/{Uri.EscapeDataString(id)}/start", null, cancellationToken);

    /// <summary>Stops the container (SIGKILL after <paramref name="waitSeconds"/>); one already stopped (304) counts as stopped.</summary>
    public Task StopContainerAsync(string id, int waitSeconds, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Post, $"containers/{Uri.EscapeDataString(id)}/stop?t={waitSeconds}", null, cancellationToken,
            extraTime: TimeSpan.FromSeconds(waitSeconds));

    /// <summary>Removes the container even if it runs, with its anonymous volumes; answers false when it was gone already (404).</summary>
    public async Task<bool> RemoveContainerAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync<JsonElement>(HttpMethod.Delete, $"containers/{Uri.EscapeDataString(id)}?force=true&v=true", null, cancellationToken);
            return true;
        }
        catch (DockerApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>
    /// Pulls <paramref name="repository"/> (with <paramref name="tag"/> and <c>tag</c> or digest) and yields its progress lines. The daemon
    /// answers 200 before it knows whether the pull works: a failure arrives as a line with <c>errorDetail</c>, which ends
    /// the pull with a <see cref="DockerApiException"/> carrying the daemon's message.
    /// </summary>
    public async IAsyncEnumerable<PullProgress> PullAsync(string repository, string tag, TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var path = $"images/create?fromImage={Uri.EscapeDataString(repository)}&tag={Uri.EscapeDataString(tag)}";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        using var response = await Guard(path, timeout, () => http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token), cancellationToken);
        await ThrowIfFailedAsync(response, request.Method, path, deadline.Token);

        await using var stream = await Guard(path, timeout, () => response.Content.ReadAsStreamAsync(deadline.Token), cancellationToken);
        using var reader = new StreamReader(stream);
        while (await Guard(path, timeout, () => reader.ReadLineAsync(deadline.Token).AsTask(), cancellationToken) is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var progress = Parse<PullProgress>(line, $"a progress line of the pull of {repository}:{tag}");
            // v1.48 deprecates "error" in favour of "errorDetail"; either one means the pull failed.
            if (progress.ErrorDetail is not null || progress.Error is not null)
            {
                throw new DockerApiException(HttpStatusCode.OK, "POST", $"images/create ({repository}:{tag})", progress.ErrorDetail?.Message ?? progress.Error ?? "");
            }
            yield return progress;
        }
    }

    public void Dispose() => http.Dispose();

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken, TimeSpan extraTime = default)
    {
        var timeout = requestTimeout + extraTime;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: DockerJson.Options);
        }

        using var response = await Guard(path, timeout, () => http.SendAsync(request, deadline.Token), cancellationToken);
        await ThrowIfFailedAsync(response, request.Method, path, deadline.Token);
        if (response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotModified || response.Content.Headers.ContentLength == 0)
        {
            return default!;
        }

        var text = await Guard(path, timeout, () => response.Content.ReadAsStringAsync(deadline.Token), cancellationToken);
        if (text.Length == 0)
        {
            return default!;
        }
        return Parse<T>(text, $"the answer to {method} /v{ApiVersion}/{PathOnly(path)}");
    }

    /// <summary>An answer that is not the JSON the API documents is the daemon's (or a proxy's) fault: an error naming what was read.</summary>
    private static T Parse<T>(string text, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(text, DockerJson.Options) ?? throw new InvalidOperationException($"Docker sent null as {what}.");
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"Docker sent {what} that is not the JSON the API documents: {ex.Message}", ex);
        }
    }

    /// <summary>A non-2xx answer (304 aside) becomes a <see cref="DockerApiException"/> with Docker's own message.</summary>
    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotModified)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        string message;
        try
        {
            message = JsonSerializer.Deserialize<ErrorResponse>(text, DockerJson.Options)?.Message ?? text;
        }
        catch (JsonException)
        {
            // Not the documented {"message": ...}: a proxy's page or plain text; its text is the best account there is.
            message = text.Length > 300 ? text[..300] + "…" : text;
        }
        throw new DockerApiException(response.StatusCode, method.Method, PathOnly(path), message);
    }

    /// <summary>Turns a deadline passed into a <see cref="TimeoutException"/> and an unreachable daemon into an error naming the endpoint.</summary>
    private async Task<T> Guard<T>(string path, TimeSpan timeout, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Docker at {endpoint} did not answer /v{ApiVersion}/{PathOnly(path)} within {timeout.TotalSeconds:0} s.", ex);
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            throw new HttpRequestException($"Docker at {endpoint} could not be reached for /v{ApiVersion}/{PathOnly(path)}: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new HttpRequestException($"The connection to Docker at {endpoint} broke during /v{ApiVersion}/{PathOnly(path)}: {ex.Message}", ex);
        }
    }

    private static string PathOnly(string path) => path.Split('?')[0];

    private static async ValueTask<Stream> ConnectUnixAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (Exception)
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The daemon's certificate must chain to the configured CA (and match the host name, as TLS always checks).</summary>
    private static bool IsSignedBy(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 authority)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = new X509Certificate2(certificate);
        return chain.Build(presented);
    }
}

/// <summary>The Engine API refused a call; <see cref="Exception.Message"/> keeps Docker's own message and the status code.</summary>
internal sealed class DockerApiException(HttpStatusCode status, string method, string path, string dockerMessage)
    : InvalidOperationException($"Docker answered {(int)status} to {method} /v{DockerClient.ApiVersion}/{path.TrimStart('/')}: {dockerMessage}")
{
    public HttpStatusCode Status => status;

    public string DockerMessage => dockerMessage;
}
