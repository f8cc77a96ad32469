namespace DecentCloud.Functions.Platform.Queues;

/// <summary>Where a queue's messages go after maxDequeueCount failures, as Functions names it.</summary>
public static class PoisonQueueName
{
    public const string Suffix = "-poison";

    public static string NameFor(string queueName) => queueName + Suffix;
}
