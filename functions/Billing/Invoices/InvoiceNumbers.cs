using System.Collections.Concurrent;
using System.Globalization;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>A number given to one payment or refund: <c>INV-2026-000042</c>, and when it was issued.</summary>
public sealed record IssuedNumber(string Number, long Sequence, DateTimeOffset IssuedAt);

/// <summary>
/// Sequential document numbers per prefix and calendar year (<c>INV-YYYY-NNNNNN</c>, <c>CN-YYYY-NNNNNN</c>), with no
/// gaps and no duplicates across any number of instances. Each year of a prefix is one partition of the
/// <c>InvoiceNumbers</c> table holding a counter row, one row per number and one row per payment key; a number is
/// taken by one transaction that raises the counter (If-Match its ETag) and adds both rows. So a number exists
/// exactly when its payment holds it: a crash leaves no gap, a retry for the same payment finds its number, and
/// of two instances racing for the next number one wins and the other tries again with the next.
/// </summary>
public sealed class InvoiceNumbers(TableServiceClient tables, TimeProvider time)
{
    public const string TableName = "InvoiceNumbers";
    public const string InvoicePrefix = "INV";
    public const string CreditNotePrefix = "CN";
    private const string CounterRowKey = "counter";
    private const int MaxAttempts = 200;

    private readonly TableClient table = tables.GetTableClient(TableName);

    // One allocation at a time per prefix on this instance: instances then contend with each other, not with themselves.
    private readonly ConcurrentDictionary<string, SemaphoreSlim> gates = new(StringComparer.Ordinal);
    private volatile bool tableExists;

    /// <summary>The number of <paramref name="paymentKey"/> (an id unique to one payment or one refund), taking the next one if it has none.</summary>
    public async Task<IssuedNumber> NumberForAsync(string prefix, string paymentKey, string contractId, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var gate = gates.GetOrAdd(prefix, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 1; attempt <= MaxAttempts; attempt++)
            {
                var now = time.GetUtcNow();
                // A retry across New Year finds the number taken in December.
                if ((await FindAsync(prefix, now.Year, paymentKey, cancellationToken) ?? await FindAsync(prefix, now.Year - 1, paymentKey, cancellationToken)) is { } existing)
                {
                    return existing;
                }

                if (await TryTakeNextAsync(prefix, now, paymentKey, contractId, cancellationToken) is { } taken)
                {
                    return taken;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 + Math.Min(attempt, 20) * 5)), time, cancellationToken);
            }

            throw new InvalidOperationException($"numbering {paymentKey} with prefix {prefix}: {MaxAttempts} attempts lost the race for the next number");
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The numbers issued with <paramref name="prefix"/> in <paramref name="year"/>, in order: for accounting, and to check the sequence.</summary>
    public async Task<List<(string Number, string PaymentKey, string ContractId, DateTimeOffset IssuedAt)>> ListAsync(string prefix, int year, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var list = new List<(string, string, string, DateTimeOffset)>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(prefix, year)} and RowKey ge {"n-"} and RowKey lt {"n."}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            list.Add((row.GetString("Number"), row.GetString("PaymentKey"), row.GetString("ContractId"), row.GetDateTimeOffset("IssuedAt")!.Value));
        }

        return list;
    }

    public static string Format(string prefix, int year, long sequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{year:D4}-{sequence:D6}");

    private async Task<IssuedNumber?> FindAsync(string prefix, int year, string paymentKey, CancellationToken cancellationToken)
    {
        var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition(prefix, year), KeyRowKey(paymentKey), cancellationToken: cancellationToken);
        return row.HasValue
            ? new IssuedNumber(row.Value!.GetString("Number"), row.Value.GetInt64("Sequence")!.Value, row.Value.GetDateTimeOffset("IssuedAt")!.Value)
            : null;
    }

    private async Task<IssuedNumber?> TryTakeNextAsync(string prefix, DateTimeOffset now, string paymentKey, string contractId, CancellationToken cancellationToken)
    {
        var partition = Partition(prefix, now.Year);
        var counter = await table.GetEntityIfExistsAsync<TableEntity>(partition, CounterRowKey, cancellationToken: cancellationToken);
        var last = counter.HasValue ? counter.Value!.GetInt64("Last") ?? 0 : 0;
        var sequence = last + 1;
        if (sequence > 999_999)
        {
            throw new InvalidOperationException($"numbering {paymentKey}: {prefix} numbers of {now.Year} are used up (six digits)");
        }

        var number = Format(prefix, now.Year, sequence);
        var next = new TableEntity(partition, CounterRowKey) { ["Last"] = sequence, ["UpdatedAt"] = now };
        var details = new Dictionary<string, object> { ["Number"] = number, ["Sequence"] = sequence, ["PaymentKey"] = paymentKey, ["ContractId"] = contractId, ["IssuedAt"] = now };
        TableTransactionAction[] actions =
        [
            counter.HasValue
                ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, next, counter.Value!.ETag)
                : new TableTransactionAction(TableTransactionActionType.Add, next),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(details) { PartitionKey = partition, RowKey = $"n-{sequence:D6}" }),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(details) { PartitionKey = partition, RowKey = KeyRowKey(paymentKey) }),
        ];
        try
        {
            await table.SubmitTransactionAsync(actions, cancellationToken);
            return new IssuedNumber(number, sequence, now);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
        {
            // Another instance took this number, or this payment's number, first: look again.
            return null;
        }
    }

    private static string Partition(string prefix, int year) => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{year:D4}");

    private static string KeyRowKey(string paymentKey) => "k-" + paymentKey;

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!tableExists)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            tableExists = true;
        }
    }
}
