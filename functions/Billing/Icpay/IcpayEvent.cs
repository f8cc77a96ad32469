using System.Text.Json;
using DecentCloud.Functions.Platform;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary>The fields of an ICPay event needed before it is processed: from the verified body's envelope.</summary>
public sealed record IcpayEventHead(string Id, string Type, DateTimeOffset Created, string? ObjectId);

/// <summary>
/// ICPay's payment object (<c>data.object</c> of <c>payment.*</c> events), the fields this app uses. Amounts stay the
/// decimal strings ICPay sends (smallest units of <see cref="Token"/>); <see cref="IcpayTokens.ParseUnits"/> reads them.
/// </summary>
public sealed record IcpayPayment(
    string Id,
    string? Status,
    string? Amount,
    string? RequestedAmount,
    string? PaidAmount,
    string? Token,
    string? Network,
    string? LedgerCanisterId,
    string? PaymentIntentId,
    string? TransactionId,
    string? LedgerTxId,
    string? ContractId)
{
    /// <summary>The reference printed on the invoice: the ICPay transaction, else the payment.</summary>
    public string Reference => TransactionId ?? LedgerTxId ?? Id;
}

internal static class IcpayEventJson
{
    private const int MaxTextLength = 255;

    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>
    /// The envelope of an ICPay event (Stripe-like: <c>id</c>, <c>type</c>, <c>created</c>, <c>data.object</c>), or null
    /// with what makes the body not one. The id becomes a table key, so it must fit one.
    /// </summary>
    public static IcpayEventHead? Head(string body, out string problem)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = $"it is a JSON {root.ValueKind}, not an object";
                return null;
            }

            var id = Text(root, "id");
            var type = Text(root, "type");
            var data = root.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
            var dataObject = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("object", out var o) && o.ValueKind == JsonValueKind.Object ? o : default;
            long? created = root.TryGetProperty("created", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt64(out var seconds) ? seconds : null;
            problem = id is null ? "it has no id string"
                : string.IsNullOrWhiteSpace(id) ? "its id is empty"
                : StorageKeys.Problem(id) is { } badId ? $"its id {badId}"
                : type is null or { Length: 0 or > MaxTextLength } ? $"its type is not a string of 1 to {MaxTextLength} characters"
                : created is not { } at || at < MinUnixSeconds || at > MaxUnixSeconds ? "its created is not a time in unix seconds"
                : dataObject.ValueKind != JsonValueKind.Object ? "it has no data.object object"
                : "";
            if (problem.Length > 0)
            {
                return null;
            }

            var objectId = Text(dataObject, "id");
            return new IcpayEventHead(id!, type!, DateTimeOffset.FromUnixTimeSeconds(created!.Value), objectId is { Length: <= MaxTextLength } ? objectId : null);
        }
        catch (JsonException ex)
        {
            problem = $"it is not JSON ({ex.Message})";
            return null;
        }
    }

    /// <summary>
    /// The payment of a <c>payment.*</c> event, or null with why it cannot be read (no <c>data.object.id</c>). The contract
    /// id is read from the payment's metadata under <see cref="IcpayMetadata.ContractIdKey"/>, else from its intent's.
    /// </summary>
    public static IcpayPayment? Payment(string body, out string problem)
    {
        using var document = JsonDocument.Parse(body);
        var payment = document.RootElement.GetProperty("data").GetProperty("object");
        if (Text(payment, "id") is not { Length: > 0 } id)
        {
            problem = "its data.object has no id";
            return null;
        }

        var intent = payment.TryGetProperty("intent", out var i) && i.ValueKind == JsonValueKind.Object ? i : default;
        var contractId = ContractId(payment) ?? (intent.ValueKind == JsonValueKind.Object ? ContractId(intent) : null);
        problem = "";
        return new IcpayPayment(
            id, Text(payment, "status"), Text(payment, "amount"), Text(payment, "requestedAmount"), Text(payment, "paidAmount"),
            Text(payment, "token"), Text(payment, "network"), Text(payment, "ledgerCanisterId"), Text(payment, "paymentIntentId"),
            Text(payment, "transactionId"), Text(payment, "ledgerTxId"), contractId);
    }

    private static string? ContractId(JsonElement holder) =>
        holder.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object ? Text(metadata, IcpayMetadata.ContractIdKey) : null;

    /// <summary>A string field; ICPay sends some ids and amounts as numbers in places, so a number is read as its text.</summary>
    private static string? Text(JsonElement holder, string name) =>
        holder.ValueKind == JsonValueKind.Object && holder.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;
}
