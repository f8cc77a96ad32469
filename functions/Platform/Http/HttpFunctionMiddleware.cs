using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Identity.Delegations;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace DecentCloud.Functions.Platform.Http;

/// <summary>
/// Worker middleware in front of every HTTP function, the same in Azure and under the local host:
/// <list type="bullet">
/// <item>records the caller's level (<see cref="FunctionCaller"/>) and the invocation's trace id on the request;</item>
/// <item>holds every route value to the rule for storage keys (<see cref="StorageKeys"/>: at most 256 characters, none of
/// <c>/ \ # ?</c> or a control character), a 400 problem naming the parameter otherwise. Route values become table keys
/// and blob names; a value storage refuses would otherwise be retried for seconds and end as a 500;</item>
/// <item>runs the signature check of a <see cref="SignedAttribute"/> function, and the delegation check after it for an
/// <see cref="AgentAttribute"/> one;</item>
/// <item>answers a request the function could not read (<see cref="BadHttpRequestException"/>: a body that is not JSON,
/// a query value of the wrong type, a body cut short) with that exception's 4xx as a problem;</item>
/// <item>answers a function that threw with a 500 problem and lets the exception go on, so that the invocation fails and
/// the worker logs the exception. Without it the caller would get the worker's own answer to a failed invocation, an
/// empty 200, which the Functions host passes on as it is.</item>
/// </list>
/// </summary>
internal sealed partial class HttpFunctionMiddleware(
    SignedRequestGate signatures,
    AgentGate agents,
    IProblemDetailsService problems,
    ILogger<HttpFunctionMiddleware> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (AppFunctions.OfThisApp.Find(context.FunctionDefinition.Name) is not { Http: { } trigger } function
            || context.GetHttpContext() is not { } http)
        {
            await next(context);
            return;
        }

        http.Features.Set(FunctionCaller.For(trigger.AuthLevel));
        if (TraceIds.FromTraceParent(context.TraceContext?.TraceParent) is { } traceId)
        {
            http.Features.Set(new InvocationTrace(traceId));
        }

        foreach (var name in function.RouteParameters)
        {
            if (context.BindingContext.BindingData.TryGetValue(name, out var value) && value is string text && StorageKeys.Problem(text) is { } problem)
            {
                LogRouteValueRefused(logger, function.Name, name, text.Length, problem);
                await WriteProblemAsync(http, StatusCodes.Status400BadRequest, "Path value not valid", $"The {{{name}}} in the path {problem}.", ("parameter", name));
                return;
            }
        }

        try
        {
            RequestDelegate run = _ => next(context);
            if (function.Attribute<AgentAttribute>() is { } agent)
            {
                var afterSignature = run;
                // A route that names a provider ({pubkey}) is only for that provider's agents.
                var providerInPath = context.BindingContext.BindingData.TryGetValue("pubkey", out var named) ? named as string : null;
                run = request => agents.InvokeAsync(request, agent.Permission, providerInPath, afterSignature);
            }

            if (function.Attribute<SignedAttribute>() is not null || function.Attribute<AgentAttribute>() is not null)
            {
                var afterGate = run;
                run = request => signatures.InvokeAsync(request, function.Name, afterGate);
            }

            await run(http);
        }
        catch (BadHttpRequestException ex) when (!http.Response.HasStarted)
        {
            LogUnreadable(logger, ex, function.Name, ex.StatusCode);
            http.Response.Clear();
            await WriteProblemAsync(http, ex.StatusCode, "Request not readable", ex.Message);
        }
        catch (OperationCanceledException ex) when (http.RequestAborted.IsCancellationRequested || context.CancellationToken.IsCancellationRequested)
        {
            // The caller went away, or the host cancelled the invocation (it has answered already, e.g. a body it could not
            // read): nobody waits for an answer, and nothing failed on this side.
            LogCancelled(logger, ex, function.Name);
        }
        catch (Exception) when (!http.Response.HasStarted)
        {
            // The Functions host passes on whatever the worker answers, and for a function that threw the worker's own answer
            // is an empty 200: a caller (Stripe, an agent) would take the failure for success. The 500 problem is written
            // here, with the trace id, and the exception goes on so that the invocation fails and the worker logs it whole.
            http.Response.Clear();
            await WriteProblemAsync(http, StatusCodes.Status500InternalServerError, "The function failed", "The request was not completed. The trace id finds what went wrong in the app's log.");
            throw;
        }
    }

    private async Task WriteProblemAsync(HttpContext http, int status, string title, string detail, (string Name, string Value)? extension = null)
    {
        http.Response.StatusCode = status;
        var problem = new ProblemDetailsContext { HttpContext = http, ProblemDetails = { Status = status, Title = title, Detail = detail } };
        if (extension is { } field)
        {
            problem.ProblemDetails.Extensions[field.Name] = field.Value;
        }

        await problems.WriteAsync(problem);
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Refused a call to {Function}: route value {Parameter} ({Length} characters) {Problem}")]
    private static partial void LogRouteValueRefused(ILogger logger, string function, string parameter, int length, string problem);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "A call to {Function} was cancelled before it was answered (the caller went away or the host cancelled it)")]
    private static partial void LogCancelled(ILogger logger, Exception exception, string function);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Refused a call to {Function} with {Status}: the request could not be read")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string function, int status);
}
