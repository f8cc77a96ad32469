using Azure.Data.Tables;

namespace DecentCloud.Functions.Billing.Payments;

/// <summary>
/// The <c>PaymentIntents</c> table: payment intent id (PartitionKey) to the contract and session it paid, written when a
/// payment is recorded. Charge and dispute events name only the payment intent; this leads them back to the contract.
/// </summary>
public sealed class PaymentIntentIndex(TableServiceClient tables)
{
    public const string TableName = "PaymentIntents";
    private const string RowKey = "intent";

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public async Task RecordAsync(string paymentIntentId, string contractId, string sessionId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(paymentIntentId, RowKey) { ["ContractId"] = contractId, ["SessionId"] = sessionId }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<(string ContractId, string SessionId)?> FindAsync(string paymentIntentId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(paymentIntentId, RowKey, cancellationToken: cancellationToken);
        return row.HasValue ? (row.Value!.GetString("ContractId"), row.Value.GetString("SessionId")) : null;
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!tableExists)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            tableExists = true;
        }
    }
}
