using System.Net.Sockets;

namespace DecentCloud.FunctionsHost.Http;

/// <summary>
/// Tries a request to the worker again when its connection was refused (nothing of the request was sent), as the
/// Functions host does: the worker reports its HTTP endpoint before its ASP.NET Core server listens, and a worker
/// restarting its listener refuses for a moment.
/// </summary>
internal sealed partial class ConnectRetryHandler(HttpMessageHandler inner, ILogger logger) : DelegatingHandler(inner)
{
    private const int MaxAttempts = 10;
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LongestDelay = TimeSpan.FromMilliseconds(250);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException ex) when (attempt < MaxAttempts && ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                LogRefused(logger, attempt, MaxAttempts, delay.TotalMilliseconds);
            }

            await Task.Delay(delay, cancellationToken);
            delay = delay * 2 < LongestDelay ? delay * 2 : LongestDelay;
        }
    }

    [LoggerMessage(EventId = 1218, Level = LogLevel.Warning, Message = "The worker refused the connection (attempt {Attempt} of {MaxAttempts}); trying again in {DelayMs} ms")]
    private static partial void LogRefused(ILogger logger, int attempt, int maxAttempts, double delayMs);
}
