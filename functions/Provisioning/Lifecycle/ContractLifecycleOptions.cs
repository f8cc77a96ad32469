using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Provisioning.Lifecycle;

/// <summary>Settings of the contract's orchestration (docs/workflows.md, "Contract lifecycle").</summary>
public sealed class ContractLifecycleOptions
{
    /// <summary>
    /// Minutes from the moment a contract is both accepted and paid until an agent must have reported it provisioned;
    /// after that it is provisioningfailed and refunded in full. Fractions allowed (tests use seconds).
    /// </summary>
    [ConfigurationKeyName("PROVISIONING_TIMEOUT_MINUTES")]
    [Range(0.01, 10_080)]
    public double ProvisioningTimeoutMinutes { get; set; } = 60;

    /// <summary>
    /// Hours the orchestration waits for the agent's termination report once it asked for one; after that it ends
    /// without it (the termination stays requested, so agents still get it in their terminate list).
    /// </summary>
    [ConfigurationKeyName("PROVISIONING_TERMINATION_WAIT_HOURS")]
    [Range(0.0003, 8_760)]
    public double TerminationWaitHours { get; set; } = 168;
}
