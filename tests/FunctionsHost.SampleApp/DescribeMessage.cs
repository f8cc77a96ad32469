using System.Text.Json;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;

namespace DecentCloud.FunctionsHost.SampleApp;

/// <summary>A queue function that binds the whole QueueMessage (the queue extension's model binding data) and reports what it saw.</summary>
public sealed class DescribeMessage
{
    [Function(nameof(DescribeMessage))]
    [QueueOutput("%SAMPLE_DONE_QUEUE%")]
    public string Run([QueueTrigger("%SAMPLE_DESCRIBE_QUEUE%")] QueueMessage message) =>
        JsonSerializer.Serialize(new MessageDescription(message.MessageId, message.Body.ToString(), message.DequeueCount, message.InsertedOn));
}

public sealed record MessageDescription(string MessageId, string Text, long DequeueCount, DateTimeOffset? InsertedOn);
