using DecentCloud.Functions.Platform.Queues;

namespace DecentCloud.Benchmarks;

public sealed record NoOpMessage(int Sequence);

/// <summary>A queue function that does nothing but count, so the benchmark measures the host alone.</summary>
public sealed class NoOpFunction(InvocationCounter counter) : IQueueFunction<NoOpMessage>
{
    public Task Run(NoOpMessage message, CancellationToken cancellationToken)
    {
        counter.Increment();
        return Task.CompletedTask;
    }
}

/// <summary>The benchmark's own count of invocations; <see cref="Reached"/> completes at the target.</summary>
public sealed class InvocationCounter(int target)
{
    private readonly TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int count;

    public int Count => Volatile.Read(ref count);

    public Task Reached => reached.Task;

    public void Increment()
    {
        if (Interlocked.Increment(ref count) == target)
        {
            reached.TrySetResult();
        }
    }
}
