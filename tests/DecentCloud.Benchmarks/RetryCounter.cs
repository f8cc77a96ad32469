using Azure.Core;
using Azure.Core.Pipeline;

namespace DecentCloud.Benchmarks;

/// <summary>Counts the Azure SDK's retries on one client, so a run that needed them says so.</summary>
internal sealed class RetryCounter : HttpPipelinePolicy
{
    private int retries;

    public int Count => Volatile.Read(ref retries);

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Note(message);
        return ProcessNextAsync(message, pipeline);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Note(message);
        ProcessNext(message, pipeline);
    }

    private void Note(HttpMessage message)
    {
        if (message.ProcessingContext.RetryNumber > 0)
        {
            Interlocked.Increment(ref retries);
        }
    }
}
