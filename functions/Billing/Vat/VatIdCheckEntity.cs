using System.Runtime.Serialization;
using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Billing.Vat;

/// <summary>
/// A row of the <c>VatIdChecks</c> table: PartitionKey the VIES prefix (EL for Greece), RowKey the number. It keeps the
/// last definite VIES answer (<see cref="Status"/> and what came with it) apart from the last attempt, so that an
/// attempt VIES could not answer never erases an earlier answer.
/// </summary>
public sealed class VatIdCheckEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    /// <summary>The last definite answer: <c>Valid</c> or <c>Invalid</c>; null while VIES has never answered.</summary>
    public string? Status { get; set; }

    public string? Name { get; set; }

    public string? Address { get; set; }

    /// <summary>When the definite answer came (our clock); it is fresh for 24 hours.</summary>
    public DateTimeOffset? CheckedAt { get; set; }

    /// <summary>VIES's own <c>requestDate</c> of that answer.</summary>
    public DateTimeOffset? ViesRequestDate { get; set; }

    /// <summary>The last time VIES was asked, answered or not.</summary>
    public DateTimeOffset? LastAttemptAt { get; set; }

    /// <summary>Why the last attempt got no answer (VIES's code such as MS_UNAVAILABLE, or HTTP 500, timed out); null after an answer.</summary>
    public string? LastError { get; set; }

    [IgnoreDataMember]
    internal VatIdStatus? Definite => Status switch
    {
        nameof(VatIdStatus.Valid) => VatIdStatus.Valid,
        nameof(VatIdStatus.Invalid) => VatIdStatus.Invalid,
        _ => null,
    };
}
