using Microsoft.Azure.Functions.Worker;

namespace DecentCloud.FunctionsHost.SampleApp;

/// <summary>
/// A queue function that does nothing with its message: what remains is the cost of the host and the worker per message
/// (the queue benchmark in tests/DecentCloud.Benchmarks runs it).
/// </summary>
public sealed class Discard
{
    [Function(nameof(Discard))]
    public void Run([QueueTrigger("%SAMPLE_NOOP_QUEUE%")] string message)
    {
    }
}
