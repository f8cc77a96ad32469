using Microsoft.Azure.Functions.Worker.Grpc.Messages;

namespace DecentCloud.FunctionsHost.Worker;

/// <summary>An exception raised in the worker, as the worker reported it: its type, message and stack trace.</summary>
internal sealed class WorkerException : Exception
{
    private readonly string? remoteStackTrace;

    public WorkerException()
    {
    }

    public WorkerException(string message)
        : base(message)
    {
    }

    public WorkerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private WorkerException(RpcException exception)
        : base(string.IsNullOrEmpty(exception.Type) ? exception.Message : $"{exception.Type}: {exception.Message}")
    {
        remoteStackTrace = exception.StackTrace;
        Source = exception.Source;
        RemoteType = string.IsNullOrEmpty(exception.Type) ? null : exception.Type;
        RemoteMessage = exception.Message;
    }

    public override string? StackTrace => remoteStackTrace ?? base.StackTrace;

    /// <summary>The exception's type as the worker reported it, when it did.</summary>
    public string? RemoteType { get; }

    /// <summary>The exception's message as the worker reported it (the .NET worker sends the exception's <c>ToString()</c>).</summary>
    public string RemoteMessage { get; } = "";

    public static WorkerException? From(RpcException? exception) => exception is null ? null : new WorkerException(exception);

    public override string ToString() =>
        string.IsNullOrEmpty(remoteStackTrace) ? $"{GetType().FullName}: {Message}" : $"{GetType().FullName}: {Message}{Environment.NewLine}{remoteStackTrace}";
}

/// <summary>A function invocation the worker answered with a failure.</summary>
internal sealed class FunctionInvocationException : Exception
{
    public FunctionInvocationException()
    {
    }

    public FunctionInvocationException(string message)
        : base(message)
    {
    }

    public FunctionInvocationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The worker is gone: its stream closed or its process exited.</summary>
internal sealed class WorkerUnavailableException : Exception
{
    public WorkerUnavailableException()
    {
    }

    public WorkerUnavailableException(string message)
        : base(message)
    {
    }

    public WorkerUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
