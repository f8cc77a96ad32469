namespace DecentCloud.Functions.Provisioning;

/// <summary>
/// The seam between what agents and renters report (the provisioning API) and the contract's orchestration
/// (<c>ContractLifecycle</c>, one instance per contract): the instance id and the names of the external events the API
/// raises on it. The API records what it was told first, then raises the event; the orchestration reads the recorded
/// state when it wakes, so an event raised twice, or one raised before the orchestration waits for it, changes nothing.
/// </summary>
public static class ContractLifecycleEvents
{
    public const string InstancePrefix = "contract-";

    /// <summary>An agent took the contract's lock (its lease is recorded in the contract's partition).</summary>
    public const string Locked = "Locked";

    /// <summary>An agent reported progress: provisioning, provisioned (the instance is recorded) or failed.</summary>
    public const string ProvisioningReported = "ProvisioningReported";

    /// <summary>An agent reported a health check of the contract's instance (healthy, unhealthy or unknown).</summary>
    public const string HealthReported = "HealthReported";

    /// <summary>An agent reported the contract's instance terminated.</summary>
    public const string Terminated = "Terminated";

    /// <summary>The renter cancelled the contract (the move and its refund are already recorded).</summary>
    public const string Cancelled = "Cancelled";

    /// <summary>A Stripe dispute on the contract's payment was opened, or closed (won or lost).</summary>
    public const string DisputeChanged = "DisputeChanged";

    /// <summary>The orchestration instance of a contract: one per contract, for its whole life.</summary>
    public static string InstanceId(string contractId) => InstancePrefix + contractId;
}
