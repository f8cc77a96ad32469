using Azure.Data.Tables;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Chatwoot.Webhooks;

/// <summary>The claim that makes two queue messages of one delivery forward it once.</summary>
public sealed class ChatwootDeliveriesTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private ChatwootDeliveries Deliveries() => new(new TableServiceClient(storage.ConnectionString));

    private static ChatwootEventMessage Message(string? body = """{"event":"message_created"}""") =>
        new(Guid.NewGuid().ToString(), "message_created", DateTimeOffset.UtcNow, ChatwootVerifiedBy.AccountSecret, null, body);

    [Fact]
    public async Task Of_two_messages_of_one_delivery_claiming_at_once_exactly_one_wins()
    {
        var deliveries = Deliveries();
        var message = Message();
        var now = DateTimeOffset.UtcNow;

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => deliveries.ClaimAsync(message, $"queue-message-{i}", now, CancellationToken.None)));

        Assert.Single(claims, c => c.State == ChatwootClaimState.Claimed);
        Assert.All(claims.Where(c => c.State != ChatwootClaimState.Claimed), c => Assert.Equal(ChatwootClaimState.HeldByAnother, c.State));
    }

    [Fact]
    public async Task The_claiming_message_retried_claims_again_and_after_the_mark_every_message_is_a_redelivery()
    {
        var deliveries = Deliveries();
        var message = Message();
        var now = DateTimeOffset.UtcNow;

        Assert.Equal(ChatwootClaimState.Claimed, (await deliveries.ClaimAsync(message, "first", now, CancellationToken.None)).State);
        Assert.Equal(ChatwootClaimState.Claimed, (await deliveries.ClaimAsync(message, "first", now.AddSeconds(30), CancellationToken.None)).State);
        await deliveries.MarkAsync(message.DeliveryId, ChatwootDeliveryStatus.Processed, "forwarded", now, CancellationToken.None);

        Assert.Equal(ChatwootClaimState.Done, (await deliveries.ClaimAsync(message, "first", now, CancellationToken.None)).State);
        Assert.Equal(ChatwootClaimState.Done, (await deliveries.ClaimAsync(message, "second", now, CancellationToken.None)).State);
    }

    [Fact]
    public async Task A_claim_released_after_a_failure_or_timed_out_is_taken_by_another_message()
    {
        var deliveries = Deliveries();
        var released = Message();
        var abandoned = Message();
        var now = DateTimeOffset.UtcNow;
        await deliveries.ClaimAsync(released, "failed", now, CancellationToken.None);
        await deliveries.ClaimAsync(abandoned, "crashed", now, CancellationToken.None);

        await deliveries.ReleaseAsync(released.DeliveryId, "failed", CancellationToken.None);

        Assert.Equal(ChatwootClaimState.Claimed, (await deliveries.ClaimAsync(released, "replayed", now, CancellationToken.None)).State);
        Assert.Equal(ChatwootClaimState.HeldByAnother, (await deliveries.ClaimAsync(abandoned, "replayed", now.AddMinutes(1), CancellationToken.None)).State);
        var late = await deliveries.ClaimAsync(abandoned, "replayed", now + ChatwootDeliveries.ClaimTimeout + TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.Equal((ChatwootClaimState.Claimed, abandoned.Body), (late.State, late.Body));
    }

    [Fact]
    public async Task A_message_without_a_body_is_processed_from_the_row_the_webhook_recorded()
    {
        var deliveries = Deliveries();
        var message = Message();
        await deliveries.TryRecordAsync(message, message.Body!, claimedBy: null, DateTimeOffset.UtcNow, CancellationToken.None);

        var claim = await deliveries.ClaimAsync(message with { Body = null }, "q1", DateTimeOffset.UtcNow, CancellationToken.None);

        Assert.Equal((ChatwootClaimState.Claimed, message.Body), (claim.State, claim.Body));
        await Assert.ThrowsAsync<InvalidDataException>(() => deliveries.ClaimAsync(Message(body: null), "q2", DateTimeOffset.UtcNow, CancellationToken.None));
    }
}
