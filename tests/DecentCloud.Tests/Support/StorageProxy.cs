using Microsoft.AspNetCore.Http;

namespace DecentCloud.Tests.Support;

/// <summary>
/// A reverse proxy in front of one storage service endpoint of the test's Azurite, for the app's worker process (which a
/// test cannot reach into): every request is passed on unchanged, except those <see cref="Fails"/> picks, whose
/// connection is reset as an unreachable service's would be. Shared-key signatures cover the path, not the host, so
/// they hold through the proxy.
/// </summary>
public sealed class StorageProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Host", "Content-Length",
    };

    private readonly WebApplication server;
    private readonly HttpClient forward = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, AutomaticDecompression = System.Net.DecompressionMethods.None });

    private StorageProxy(WebApplication server, Uri target)
    {
        this.server = server;
        Target = target;
    }

    /// <summary>The service endpoint requests are passed to (for example Azurite's table endpoint).</summary>
    public Uri Target { get; }

    /// <summary>The proxy's own address, in place of <see cref="Target"/>.</summary>
    public Uri Address => LoopbackServer.AddressOf(server);

    /// <summary>Requests to refuse (reset); the path and query are decoded. Null lets everything through.</summary>
    public Func<string, bool>? Fails { get; set; }

    public static async Task<StorageProxy> StartAsync(Uri target)
    {
        var builder = LoopbackServer.CreateBuilder();
        var server = builder.Build();
        var proxy = new StorageProxy(server, target);
        server.Run(proxy.ForwardAsync);
        await server.StartAsync();
        return proxy;
    }

    /// <summary><paramref name="connectionString"/> with its <paramref name="endpoint"/> (TableEndpoint, BlobEndpoint, QueueEndpoint) through a new proxy.</summary>
    public static async Task<(StorageProxy Proxy, string ConnectionString)> StartAsync(string connectionString, string endpoint)
    {
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .ToList();
        var target = parts.Single(p => string.Equals(p[0], endpoint, StringComparison.OrdinalIgnoreCase))[1];
        var proxy = await StartAsync(new Uri(target.TrimEnd('/') + "/"));
        var through = new Uri(proxy.Address, proxy.Target.AbsolutePath).ToString().TrimEnd('/');
        var rewritten = string.Join(';', parts.Select(p => string.Equals(p[0], endpoint, StringComparison.OrdinalIgnoreCase) ? $"{p[0]}={through}" : string.Join('=', p)));
        return (proxy, rewritten);
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var pathAndQuery = context.Request.Path + context.Request.QueryString;
        if (Fails is { } fails && fails(Uri.UnescapeDataString(pathAndQuery)))
        {
            context.Abort();
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(new Uri(Target.GetLeftPart(UriPartial.Authority)), pathAndQuery));
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            // Whole and with its length: the storage emulator does not read a chunked request body.
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            request.Content = new ByteArrayContent(body.ToArray());
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (HopHeaders.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values);
            }
        }

        using var response = await forward.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopHeaders.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        forward.Dispose();
        await server.DisposeAsync();
    }
}
