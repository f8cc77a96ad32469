using System.Diagnostics;
using System.Net;
using System.Text.Json;
using DecentCloud.FunctionsHost.Worker;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Http;

/// <summary>
/// Runs an HTTP-triggered function as the Functions host does for a worker that integrates with ASP.NET Core: checks
/// the key its level asks for, then sends the InvocationRequest and, at the same time, the caller's request to the
/// worker's own endpoint (HttpUri) with the invocation's id in <c>x-ms-invocation-id</c>; the worker pairs the two and
/// answers the request itself. The worker's answer is passed back as it is, as the Functions host passes it on, whether or
/// not the invocation succeeded (a failure is logged, 1213); it goes once the invocation's end is known and its output
/// bindings are written. Only when the worker gives no answer does the host answer itself: 500 for an invocation that
/// failed, 503 for a worker that is gone, 502 for an answer that could not be read.
/// </summary>
internal sealed partial class HttpFunctionProxy(
    FunctionsWorker worker,
    FunctionInvoker invoker,
    FunctionKeys keys,
    IProblemDetailsService problems,
    ILogger<HttpFunctionProxy> logger) : IDisposable
{
    public const string InvocationIdHeader = "x-ms-invocation-id";

    /// <summary>
    /// How long the worker's answer is waited for once its invocation has failed: it answers a request it has paired with
    /// the invocation as soon as the invocation ends, so only an unpaired request (which it would hold for 15 s) takes this long.
    /// </summary>
    private static readonly TimeSpan AnswerAfterFailure = TimeSpan.FromSeconds(2);

    /// <summary>The largest body of a known length sent to the worker without waiting for its 100 Continue.</summary>
    private const long SentStraightBytes = 64 * 1024;

    /// <summary>Headers that belong to one connection, or that this host sets itself, and are not passed on.</summary>
    private static readonly HashSet<string> SkippedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Host",
        "traceparent", "tracestate", "Request-Id", "Content-Length", "Expect", InvocationIdHeader,
    };

    private readonly HttpMessageInvoker client = new(new ConnectRetryHandler(
        new SocketsHttpHandler
        {
            // A body goes to the worker only once the function starts reading it (100-continue, see ForwardAsync).
            Expect100ContinueTimeout = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            ActivityHeadersPropagator = null,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        },
        logger));

    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint()?.Metadata.GetMetadata<HttpFunctionEndpoint>()
            ?? throw new InvalidOperationException("An HTTP function's endpoint carries its function.");
        var function = endpoint.Function;
        if (endpoint.Level != AuthorizationLevel.Anonymous && !await AuthorizeAsync(context, endpoint))
        {
            return;
        }

        if (worker.HttpUri is not { } workerUri)
        {
            throw new InvalidOperationException($"The worker reported no HttpUri, so HTTP function {function.Name} cannot be proxied: the app must use the ASP.NET Core integration (ConfigureFunctionsWebApplication).");
        }

        var invocationId = Guid.NewGuid().ToString();
        var aborted = context.RequestAborted;
        using var forwarding = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        using var invocation = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        // The invocation first: it has the longer way to the worker (the gRPC stream), and the worker starts the function
        // once both have arrived.
        var invoked = invoker.InvokeAsync(function, Request(function, context, invocationId), invocation.Token);
        var forwarded = ForwardAsync(context, workerUri, invocationId, forwarding.Token);
        var first = await Task.WhenAny(forwarded, invoked);
        if (first == forwarded && forwarded.IsFaulted && !aborted.IsCancellationRequested && Unreadable(forwarded.Exception) is { } unreadable)
        {
            // The caller's own request could not be read (a malformed chunk, a body cut short): its 4xx, as the Functions
            // host's server answers it, and the invocation, which never gets the request, is let go.
            await invocation.CancelAsync();
            _ = Observe(invoked);
            LogUnreadable(logger, unreadable, function.Name, unreadable.StatusCode);
            await ProblemAsync(context, unreadable.StatusCode, "Request not readable");
            return;
        }

        if (first == forwarded && forwarded.IsFaulted && !aborted.IsCancellationRequested)
        {
            // The request never reached the worker, whose invocation waits for it (15 s, whatever InvocationCancel
            // says): answer now, and let the invocation end on its own.
            await invocation.CancelAsync();
            _ = Observe(invoked);
            LogForwardFailed(logger, forwarded.Exception.GetBaseException(), function.Name, invocationId);
            await ProblemAsync(context, StatusCodes.Status502BadGateway, "The function could not be reached");
            return;
        }

        if (first == invoked && !invoked.IsCompletedSuccessfully && !aborted.IsCancellationRequested
            && await Task.WhenAny(forwarded, Task.Delay(AnswerAfterFailure, aborted)) != forwarded)
        {
            // The invocation ended before the worker answered, and no answer came: the worker's side of the request
            // waits for an invocation that will not come (it gives up after 15 s); do not wait with it.
            await forwarding.CancelAsync();
        }

        ForwardedResponse response;
        try
        {
            response = await forwarded;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !aborted.IsCancellationRequested)
        {
            await AnswerWithoutTheWorkerAsync(context, function, invocationId, invoked, ex);
            return;
        }
        catch (Exception) when (aborted.IsCancellationRequested)
        {
            // The caller went away; the worker was asked to cancel, and however the invocation ended, no one listens.
            await Observe(invoked);
            return;
        }

        // The worker's answer goes to the caller as it is, whether or not the invocation succeeded, as the Functions host
        // passes it on: an app sees locally what its callers get in Azure. It goes once the invocation's end is known, so
        // that the invocation's log lines and output bindings are in place when the caller has its answer.
        try
        {
            await invoked;
        }
        catch (FunctionInvocationException ex)
        {
            // The worker has logged the function's exception whole, under this trace id; one line says what the caller got.
            LogInvocationFailed(logger, function.Name, invocationId, response.Status, ex.InnerException?.Message);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The caller went away; the invocation was asked to cancel, and no one listens.
            return;
        }
        catch (Exception ex)
        {
            // The worker went away before the invocation's end, or its output bindings could not be written.
            LogEndedBadlyAfterAnswer(logger, ex, function.Name, invocationId, response.Status);
        }

        await response.WriteToAsync(context.Response, aborted);
    }

    /// <summary>
    /// The worker's answer could not be had (the request could not be passed on, or the invocation ended and no answer
    /// came): the host answers from what it knows of the invocation.
    /// </summary>
    private async Task AnswerWithoutTheWorkerAsync(HttpContext context, FunctionDescriptor function, string invocationId, Task<InvocationResponse> invoked, Exception forwardFailure)
    {
        try
        {
            await invoked;
        }
        catch (FunctionInvocationException ex)
        {
            LogInvocationFailedUnanswered(logger, function.Name, invocationId, ex.InnerException?.Message);
            await ProblemAsync(context, StatusCodes.Status500InternalServerError, "The function failed");
            return;
        }
        catch (WorkerUnavailableException ex)
        {
            LogWorkerUnavailable(logger, ex, function.Name, invocationId);
            await ProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "The function app is not running");
            return;
        }
        catch (OperationCanceledException ex)
        {
            LogAbandoned(logger, ex);
        }

        LogForwardFailed(logger, forwardFailure, function.Name, invocationId);
        await ProblemAsync(context, StatusCodes.Status502BadGateway, "The function's answer could not be read");
    }

    public void Dispose() => client.Dispose();

    private static BadHttpRequestException? Unreadable(Exception? failure)
    {
        for (var inner = failure; inner is not null; inner = inner.InnerException)
        {
            if (inner is BadHttpRequestException bad)
            {
                return bad;
            }

            if (inner is AggregateException { InnerExceptions.Count: 1 } one)
            {
                inner = one;
            }
        }

        return null;
    }

    private static InvocationRequest Request(FunctionDescriptor function, HttpContext context, string invocationId)
    {
        // As the Functions host does for a proxying worker: the request itself goes over HTTP, the InvocationRequest
        // carries an empty RpcHttp for the trigger and the route values, query and headers as trigger metadata (the
        // worker binds parameters such as a route's {name} from them).
        var request = new InvocationRequest { InvocationId = invocationId };
        request.InputData.Add(new ParameterBinding { Name = function.Trigger.Name, Data = new TypedData { Http = new RpcHttp() } });
        foreach (var (name, value) in context.Request.RouteValues)
        {
            if (value?.ToString() is { } text)
            {
                request.TriggerMetadata[name] = new TypedData { String = text };
            }
        }

        request.TriggerMetadata["Query"] = new TypedData { Json = JsonSerializer.Serialize(context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString())) };
        request.TriggerMetadata["Headers"] = new TypedData { Json = JsonSerializer.Serialize(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString())) };
        return request;
    }

    private async Task<ForwardedResponse> ForwardAsync(HttpContext context, Uri workerUri, string invocationId, CancellationToken cancellationToken)
    {
        var incoming = context.Request;
        // The request target exactly as the caller sent it (not re-encoded from the decoded path): functions that verify a
        // signature over it see the bytes that were signed.
        var target = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw && raw[0] == '/'
            ? raw
            : incoming.GetEncodedPathAndQuery();
        using var request = new HttpRequestMessage(new HttpMethod(incoming.Method), new Uri(workerUri, target));
        if (incoming.ContentLength > 0 || incoming.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(incoming.Body);
        }

        foreach (var (name, values) in incoming.Headers)
        {
            if (!SkippedHeaders.Contains(name) && !request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        if (incoming.ContentLength is { } length && request.Content is not null)
        {
            request.Content.Headers.ContentLength = length;
        }

        if (request.Content is not null && incoming.ContentLength is not (> 0 and <= SentStraightBytes))
        {
            // The worker asks for the body when the function (or its middleware) starts reading it; one that answers
            // first, such as a refusal of a body too large by its Content-Length, is answered without the body being
            // sent, so this host never waits on a caller's body nobody will read. A small body of a known length goes
            // at once: it fits the connection's buffers whether or not it is read, and the round trip for the worker's
            // 100 Continue would cost every webhook and every signed request.
            request.Headers.ExpectContinue = true;
        }

        // The worker sees the host and address the caller used, and continues the caller's trace.
        request.Headers.Host = incoming.Host.Value;
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", context.Connection.RemoteIpAddress?.ToString());
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", incoming.Scheme);
        request.Headers.TryAddWithoutValidation(InvocationIdHeader, invocationId);
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            request.Headers.TryAddWithoutValidation("traceparent", activity.Id);
            if (!string.IsNullOrEmpty(activity.TraceStateString))
            {
                request.Headers.TryAddWithoutValidation("tracestate", activity.TraceStateString);
            }
        }

        using var response = await client.SendAsync(request, cancellationToken);

        // Read whole before the invocation is known to have succeeded: a function that writes more than the
        // connection buffers would otherwise wait on this host while this host waits on it.
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = response.Headers.Concat(response.Content.Headers)
            .Where(header => !SkippedHeaders.Contains(header.Key))
            .Select(header => KeyValuePair.Create(header.Key, header.Value.ToArray()))
            .ToList();
        return new ForwardedResponse((int)response.StatusCode, headers, body);
    }

    private async Task<bool> AuthorizeAsync(HttpContext context, HttpFunctionEndpoint endpoint)
    {
        var presented = FunctionKeys.PresentedKey(context.Request);
        if (!string.IsNullOrEmpty(presented) && keys.Match(endpoint.Function.Name, endpoint.Level, presented) is { } caller)
        {
            context.Features.Set(caller);
            return true;
        }

        LogKeyRefused(logger, endpoint.Function.Name, endpoint.Level, string.IsNullOrEmpty(presented) ? "no key" : "key not accepted");
        await ProblemAsync(
            context,
            StatusCodes.Status401Unauthorized,
            "A valid key is required",
            endpoint.Level == AuthorizationLevel.Admin
                ? $"{endpoint.Function.Name} needs the master key in the {FunctionKeys.HeaderName} header or the {FunctionKeys.QueryName} query parameter."
                : $"{endpoint.Function.Name} needs a function key, a host key or the master key in the {FunctionKeys.HeaderName} header or the {FunctionKeys.QueryName} query parameter.");
        return false;
    }

    private async Task ProblemAsync(HttpContext context, int status, string title, string? detail = null)
    {
        context.Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    /// <summary>Waits for work that is no longer needed (the other half of a failed call), so that its end is observed rather than lost.</summary>
    private async Task Observe(Task abandoned)
    {
        try
        {
            await abandoned;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or FunctionInvocationException or WorkerUnavailableException)
        {
            LogAbandoned(logger, ex);
        }
    }

    [LoggerMessage(EventId = 1288, Level = LogLevel.Warning, Message = "Refused a call to {Function} with {Status}: the request could not be read")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string function, int status);

    [LoggerMessage(EventId = 1212, Level = LogLevel.Warning, Message = "Refused a call to {Function} ({Level} level): {Reason}")]
    private static partial void LogKeyRefused(ILogger logger, string function, AuthorizationLevel level, string reason);

    [LoggerMessage(EventId = 1213, Level = LogLevel.Error, Message = "HTTP function {Function} failed (invocation {InvocationId}); the caller got the worker's answer, {Status}: {Error}")]
    private static partial void LogInvocationFailed(ILogger logger, string function, string invocationId, int status, string? error);

    [LoggerMessage(EventId = 1235, Level = LogLevel.Error, Message = "HTTP function {Function} failed (invocation {InvocationId}) before the worker answered, answered 500: {Error}")]
    private static partial void LogInvocationFailedUnanswered(ILogger logger, string function, string invocationId, string? error);

    [LoggerMessage(EventId = 1236, Level = LogLevel.Error, Message = "HTTP function {Function} (invocation {InvocationId}) ended in an error after the worker answered {Status}; that answer is passed on")]
    private static partial void LogEndedBadlyAfterAnswer(ILogger logger, Exception exception, string function, string invocationId, int status);

    [LoggerMessage(EventId = 1217, Level = LogLevel.Error, Message = "HTTP function {Function} could not run (invocation {InvocationId}): the worker is gone")]
    private static partial void LogWorkerUnavailable(ILogger logger, Exception exception, string function, string invocationId);

    [LoggerMessage(EventId = 1214, Level = LogLevel.Error, Message = "HTTP function {Function}: the request of invocation {InvocationId} could not be passed to the worker, or its answer read")]
    private static partial void LogForwardFailed(ILogger logger, Exception exception, string function, string invocationId);

    [LoggerMessage(EventId = 1215, Level = LogLevel.Debug, Message = "The other half of a failed HTTP call ended too")]
    private static partial void LogAbandoned(ILogger logger, Exception exception);
}

/// <summary>The worker's answer, read whole.</summary>
internal sealed record ForwardedResponse(int Status, IReadOnlyList<KeyValuePair<string, string[]>> Headers, byte[] Body)
{
    public async Task WriteToAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.StatusCode = Status;
        foreach (var (name, values) in Headers)
        {
            response.Headers[name] = values;
        }

        response.ContentLength = Body.Length;
        if (!HttpMethods.IsHead(response.HttpContext.Request.Method))
        {
            await response.Body.WriteAsync(Body, cancellationToken);
        }
    }
}
