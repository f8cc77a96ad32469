namespace DecentCloud.FunctionsHost.Durable;

/// <summary>
/// The task hub in the app's storage account, laid out as Durable Functions lays it out in Azure (control and work-item
/// queues, history and instances tables, lease blobs named after the hub). host.json's <c>extensions.durableTask</c>
/// gives the hub name; the rest has local defaults.
/// </summary>
public sealed class LocalTaskHubOptions
{
    /// <summary>The storage account's connection string (the app's <c>AzureWebJobsStorage</c>).</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>3 to 45 letters and digits, starting with a letter (Durable Functions' rule); Azure's default is the app's name.</summary>
    public string TaskHubName { get; set; } = "TestHubName";

    /// <summary>The name the worker's durable client is told its connection has (a setting name, as in host.json).</summary>
    public string ConnectionName { get; set; } = "AzureWebJobsStorage";

    /// <summary>Control-queue partitions: 4, Durable Functions' default. Fixed once the hub exists.</summary>
    public int PartitionCount { get; set; } = 4;

    /// <summary>
    /// How long an activity's work item handed out stays hidden: after a crash it is handed out again once this passes.
    /// Durable Functions uses 5 minutes (host.json <c>storageProvider.workItemQueueVisibilityTimeout</c>); locally 30
    /// seconds, so a restarted host resumes quickly.
    /// </summary>
    public TimeSpan WorkItemVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The same for the orchestrations' control-queue messages (<c>storageProvider.controlQueueVisibilityTimeout</c>):
    /// 5 minutes in Durable Functions, 30 seconds locally.
    /// </summary>
    public TimeSpan ControlQueueVisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// This host's name among the hosts that share the hub's partitions. Durable Functions uses the machine's name, one
    /// per instance in Azure; local hosts share a machine, so each gets a name of its own (machine, process, a random
    /// part), or two hosts would both take every partition as their own.
    /// </summary>
    public string WorkerId { get; set; } = $"{Environment.MachineName}.{Environment.ProcessId}.{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>
    /// How often a host reads the partition table, renewing its leases, taking free or expired ones and stealing its
    /// share from a host that has more: every 2 seconds locally (Durable Functions: 10), so a second host gets its
    /// share within seconds.
    /// </summary>
    public TimeSpan PartitionAcquireInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a partition lease lasts without renewal: 10 seconds locally (Durable Functions: 30), so the partitions
    /// of a host that died without releasing them (SIGKILL, a crash) pass to another within 10 seconds.
    /// </summary>
    public TimeSpan PartitionLeaseInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two polls of an idle queue.</summary>
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    public int MaxConcurrentOrchestratorFunctions { get; set; } = 10;

    public int MaxConcurrentActivityFunctions { get; set; } = 10;

    /// <summary>
    /// The largest gRPC message the worker's durable client accepts from the sidecar: 4 MB, the Durable extension's
    /// default (its <c>maxGrpcMessageSizeInBytes</c>).
    /// </summary>
    public int ClientMaxGrpcMessageSizeInBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The timeout of the worker's durable client's calls to the sidecar: 100 seconds, the Durable extension's default.</summary>
    public TimeSpan ClientGrpcHttpClientTimeout { get; set; } = TimeSpan.FromSeconds(100);
}
