using System.Text.Json.Nodes;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Provisioning.Lifecycle;

namespace DecentCloud.Tests.ContractLifecycles;

/// <summary>What the orchestration makes of an event's payload and of a contract's dispute rows.</summary>
public sealed class LifecycleSignalsTests
{
    [Theory]
    [InlineData("""{"status":"provisioned","instance":{"externalId":"vm-1"}}""", "provisioned")]
    [InlineData("""{"Status":"Healthy"}""", "healthy")]
    [InlineData("\"failed\"", "failed")]
    [InlineData("""{"status":7}""", null)]
    [InlineData("""{"state":"provisioned"}""", null)]
    [InlineData("[\"provisioned\"]", null)]
    [InlineData("null", null)]
    public void The_status_is_read_from_an_object_in_any_case_or_a_bare_string_and_anything_else_has_none(string payload, string? status) =>
        Assert.Equal(status, LifecycleSignals.StatusOf(JsonNode.Parse(payload)));

    [Theory]
    [InlineData(new string[0], DisputeStanding.None)]
    [InlineData(new[] { "needs_response" }, DisputeStanding.Open)]
    [InlineData(new[] { "won" }, DisputeStanding.Resolved)]
    [InlineData(new[] { "warning_closed", "under_review" }, DisputeStanding.Open)]
    [InlineData(new[] { "won", "lost", "needs_response" }, DisputeStanding.Lost)]
    public void A_lost_dispute_outweighs_an_open_one_and_an_open_one_a_resolved_one(string[] statuses, DisputeStanding standing) =>
        Assert.Equal(standing, ContractLifecycleWork.Standing(statuses.Select(s => new DisputeEntity { Status = s })));
}
