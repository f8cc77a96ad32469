using System.Text.Json.Serialization;

namespace DecentCloud.Functions.Marketplace.Contracts;

/// <summary>The life cycle of a contract; the wire and storage names are the lowercase names (docs/contracts.md, "States and moves").</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ContractState>))]
public enum ContractState
{
    [JsonStringEnumMemberName("requested")] Requested,
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("accepted")] Accepted,
    [JsonStringEnumMemberName("provisioning")] Provisioning,
    [JsonStringEnumMemberName("provisioned")] Provisioned,
    [JsonStringEnumMemberName("active")] Active,
    [JsonStringEnumMemberName("paused")] Paused,
    [JsonStringEnumMemberName("rejected")] Rejected,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
    [JsonStringEnumMemberName("expired")] Expired,
    [JsonStringEnumMemberName("provisioningfailed")] ProvisioningFailed,
}

public static class ContractStateNames
{
    /// <summary>The lowercase name, as serialized: <c>provisioningfailed</c>, not <c>ProvisioningFailed</c>.</summary>
    public static string Name(this ContractState state) => state switch
    {
        ContractState.Requested => "requested",
        ContractState.Pending => "pending",
        ContractState.Accepted => "accepted",
        ContractState.Provisioning => "provisioning",
        ContractState.Provisioned => "provisioned",
        ContractState.Active => "active",
        ContractState.Paused => "paused",
        ContractState.Rejected => "rejected",
        ContractState.Cancelled => "cancelled",
        ContractState.Expired => "expired",
        ContractState.ProvisioningFailed => "provisioningfailed",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown contract state."),
    };

    /// <summary>Reads a stored or posted lowercase name; exact match only, so a typo is not silently a state.</summary>
    public static bool TryParse(string? name, out ContractState state)
    {
        foreach (var candidate in Enum.GetValues<ContractState>())
        {
            if (string.Equals(candidate.Name(), name, StringComparison.Ordinal))
            {
                state = candidate;
                return true;
            }
        }

        state = default;
        return false;
    }
}
