using Azure;
using Azure.Data.Tables;
using DecentCloud.Functions.Platform;

namespace DecentCloud.Functions.Billing.Vat;

/// <summary>The outcome of checking one VAT ID.</summary>
/// <param name="VatId">As checked: normalized (<see cref="VatIds.Normalize"/>), EL for Greece.</param>
/// <param name="Name">As VIES gave it; for <see cref="VatIdStatus.Unverified"/>, the name from an earlier, expired answer if there was one.</param>
/// <param name="CheckedAt">When VIES answered (for a cached answer: when it first did), or when it last failed to.</param>
/// <param name="Source"><see cref="VatIdChecks.FromVies"/>, <see cref="VatIdChecks.FromCache"/>, <see cref="VatIdChecks.FromNoAnswer"/> or <see cref="VatIdChecks.FromFormat"/>.</param>
public sealed record VatIdCheck(string VatId, VatIdStatus Status, string? Name, string? Address, DateTimeOffset CheckedAt, string Source);

/// <summary>Reading or writing the <c>VatIdChecks</c> table failed.</summary>
public sealed class VatIdCheckException : Exception
{
    public VatIdCheckException()
    {
    }

    public VatIdCheckException(string message)
        : base(message)
    {
    }

    public VatIdCheckException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Checks buyers' VAT IDs with VIES (docs/billing.md, "VAT") and keeps the answers in the
/// <c>VatIdChecks</c> table. A definite answer is reused for 24 hours. VIES being down is normal (member states go
/// offline independently, for hours), so it never throws for that: after three attempts the ID is
/// <see cref="VatIdStatus.Unverified"/>, which never earns a reverse charge. An expired answer is not trusted for
/// the status once VIES cannot confirm it, but its name is still returned, so that an invoice can name the buyer
/// as VIES last knew it.
/// </summary>
public sealed partial class VatIdChecks(TableServiceClient tables, ViesClient vies, TimeProvider time, ILogger<VatIdChecks> logger)
{
    public const string TableName = "VatIdChecks";
    public const string FromVies = "vies";
    public const string FromCache = "cache";
    public const string FromNoAnswer = "unverified";

    /// <summary>The ID is malformed, so it is invalid without asking VIES.</summary>
    public const string FromFormat = "format";

    public static readonly TimeSpan CacheFor = TimeSpan.FromHours(24);

    /// <summary>
    /// Short: a member state that is down stays down for minutes or hours, and a checkout or invoice waits on
    /// this. Three attempts in about 1.2 s catch a dropped connection or a momentary concurrency limit.
    /// </summary>
    internal static readonly TimeSpan[] BackOff = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)];

    private const int WriteRounds = 5;

    private readonly TableClient table = tables.GetTableClient(TableName);
    private volatile bool tableExists;

    public async Task<VatIdCheck> CheckAsync(string vatId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vatId);
        var normalized = VatIds.Normalize(vatId);
        var masked = VatIds.Mask(normalized);
        if (!VatIds.IsWellFormed(normalized))
        {
            LogMalformed(logger, masked);
            return new VatIdCheck(normalized, VatIdStatus.Invalid, null, null, time.GetUtcNow(), FromFormat);
        }

        var (prefix, number) = (normalized[..2], normalized[2..]);
        var row = await FindAsync(prefix, number, masked, cancellationToken);
        if (row is { Definite: { } cached, CheckedAt: { } cachedAt } && time.GetUtcNow() - cachedAt < CacheFor)
        {
            LogCached(logger, masked, cached, cachedAt);
            return new VatIdCheck(normalized, cached, row.Name, row.Address, cachedAt, FromCache);
        }

        var (answer, failure) = await AskViesAsync(prefix, number, masked, cancellationToken);
        if (answer is not null)
        {
            var status = answer.Valid == true ? VatIdStatus.Valid : VatIdStatus.Invalid;
            var checkedAt = time.GetUtcNow();
            await RecordAnswerAsync(row, prefix, number, masked, status, answer, checkedAt, cancellationToken);
            LogAnswered(logger, masked, status);
            return new VatIdCheck(normalized, status, answer.Name, answer.Address, checkedAt, FromVies);
        }

        LogUnverified(logger, failure!, masked, BackOff.Length + 1, failure!.Reason);
        var earlier = row?.Definite == VatIdStatus.Valid ? row : null;
        var attemptedAt = time.GetUtcNow();
        await RecordFailureAsync(row, prefix, number, masked, failure.Reason, attemptedAt, cancellationToken);
        return new VatIdCheck(normalized, VatIdStatus.Unverified, earlier?.Name, earlier?.Address, attemptedAt, FromNoAnswer);
    }

    private async Task<(ViesAnswer? Answer, ViesUnavailableException? Failure)> AskViesAsync(string prefix, string number, string masked, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await vies.CheckAsync(prefix, number, cancellationToken), null);
            }
            catch (ViesUnavailableException ex) when (attempt <= BackOff.Length)
            {
                var delay = BackOff[attempt - 1];
                LogRetrying(logger, masked, attempt, ex.Reason, delay.TotalMilliseconds);
                await Task.Delay(delay, time, cancellationToken);
            }
            catch (ViesUnavailableException ex)
            {
                return (null, ex);
            }
        }
    }

    private async Task RecordAnswerAsync(
        VatIdCheckEntity? row, string prefix, string number, string masked, VatIdStatus status, ViesAnswer answer, DateTimeOffset checkedAt, CancellationToken cancellationToken)
    {
        for (var round = 1; ; round++)
        {
            if (row is { Definite: not null, CheckedAt: { } theirs } && theirs > checkedAt)
            {
                // Another instance stored a later answer meanwhile; it stands.
                return;
            }

            var entity = row ?? new VatIdCheckEntity { PartitionKey = prefix, RowKey = number };
            entity.Status = status.ToString();
            entity.Name = answer.Name;
            entity.Address = answer.Address;
            entity.CheckedAt = checkedAt;
            entity.ViesRequestDate = answer.RequestDate;
            entity.LastAttemptAt = Later(entity.LastAttemptAt, checkedAt);
            entity.LastError = null;
            if (await TryWriteAsync(entity, isNew: row is null, masked, cancellationToken))
            {
                return;
            }

            row = await ReloadAsync(prefix, number, masked, round, cancellationToken);
        }
    }

    /// <summary>Records the attempt on the row as read (If-Match its ETag), so that the definite answer on it, however recent, stays.</summary>
    private async Task RecordFailureAsync(
        VatIdCheckEntity? row, string prefix, string number, string masked, string reason, DateTimeOffset attemptedAt, CancellationToken cancellationToken)
    {
        for (var round = 1; ; round++)
        {
            var entity = row ?? new VatIdCheckEntity { PartitionKey = prefix, RowKey = number };
            if (entity.LastAttemptAt > attemptedAt)
            {
                return;
            }

            entity.LastAttemptAt = attemptedAt;
            entity.LastError = reason;
            if (await TryWriteAsync(entity, isNew: row is null, masked, cancellationToken))
            {
                return;
            }

            row = await ReloadAsync(prefix, number, masked, round, cancellationToken);
        }
    }

    private async Task<VatIdCheckEntity?> ReloadAsync(string prefix, string number, string masked, int round, CancellationToken cancellationToken)
    {
        if (round >= WriteRounds)
        {
            throw new VatIdCheckException($"recording the VIES check of {masked} in table {TableName}: the row kept changing ({round} attempts)");
        }

        return await FindAsync(prefix, number, masked, cancellationToken);
    }

    private async Task<VatIdCheckEntity?> FindAsync(string prefix, string number, string masked, CancellationToken cancellationToken)
    {
        try
        {
            await EnsureTableAsync(cancellationToken);
            var row = await table.GetEntityIfExistsAsync<VatIdCheckEntity>(prefix, number, cancellationToken: cancellationToken);
            return row.HasValue ? row.Value : null;
        }
        catch (Exception ex) when (StorageRetry.IsStorageFailure(ex, cancellationToken))
        {
            throw new VatIdCheckException($"reading the VIES check of {masked} from table {TableName}", ex);
        }
    }

    /// <summary>Adds the row, or replaces it if unchanged since read; false when another writer came first (409, 412, or 404 for a row deleted meanwhile).</summary>
    private async Task<bool> TryWriteAsync(VatIdCheckEntity entity, bool isNew, string masked, CancellationToken cancellationToken)
    {
        try
        {
            await EnsureTableAsync(cancellationToken);
            var response = isNew
                ? await table.AddEntityAsync(entity, cancellationToken)
                : await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
            entity.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status409Conflict or StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
        {
            return false;
        }
        catch (Exception ex) when (StorageRetry.IsStorageFailure(ex, cancellationToken))
        {
            throw new VatIdCheckException($"recording the VIES check of {masked} in table {TableName}", ex);
        }
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!tableExists)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            tableExists = true;
        }
    }

    private static DateTimeOffset Later(DateTimeOffset? a, DateTimeOffset b) => a is { } earlier && earlier > b ? earlier : b;

    [LoggerMessage(EventId = 8300, Level = LogLevel.Information, Message = "VIES answered {Status} for VAT ID {VatId}")]
    private static partial void LogAnswered(ILogger logger, string vatId, VatIdStatus status);

    [LoggerMessage(EventId = 8301, Level = LogLevel.Debug, Message = "VAT ID {VatId} is {Status} from the cache (VIES answered at {CheckedAt:O})")]
    private static partial void LogCached(ILogger logger, string vatId, VatIdStatus status, DateTimeOffset checkedAt);

    [LoggerMessage(EventId = 8302, Level = LogLevel.Information, Message = "VAT ID {VatId} is malformed (not 2 letters and 2-13 letters or digits); invalid without asking VIES")]
    private static partial void LogMalformed(ILogger logger, string vatId);

    [LoggerMessage(EventId = 8303, Level = LogLevel.Information, Message = "VIES gave no answer for VAT ID {VatId} on attempt {Attempt} ({Reason}); trying again in {DelayMs} ms")]
    private static partial void LogRetrying(ILogger logger, string vatId, int attempt, string reason, double delayMs);

    [LoggerMessage(EventId = 8304, Level = LogLevel.Warning, Message = "VIES gave no answer for VAT ID {VatId} after {Attempts} attempts ({Reason}); it counts as unverified")]
    private static partial void LogUnverified(ILogger logger, Exception exception, string vatId, int attempts, string reason);
}
