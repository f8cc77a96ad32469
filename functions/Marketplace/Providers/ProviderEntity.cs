using System.Text.Json;
using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Marketplace.Providers;

/// <summary>A row of the <c>Providers</c> table: PartitionKey the provider's public key (lower-case hex), RowKey <c>profile</c>.</summary>
public sealed class ProviderEntity : ITableEntity
{
    public const string ProfileRowKey = "profile";

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = ProfileRowKey;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Name { get; set; } = "";

    public string? Description { get; set; }

    public string? Website { get; set; }

    public string SupportEmail { get; set; } = "";

    /// <summary>The regions as a JSON array of strings (tables have no list type).</summary>
    public string Regions { get; set; } = "[]";

    public string? Sla { get; set; }

    public string? RefundPolicy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The id of the <c>provider-onboarded</c> event, fixed when the row is written (the outbox marker).</summary>
    public Guid OnboardedEventId { get; set; }

    /// <summary>When the event reached every subscriber queue; null while it has not.</summary>
    public DateTimeOffset? OnboardedEventPublishedAt { get; set; }

    public void Apply(ProviderProfile profile)
    {
        Name = profile.Name!;
        Description = profile.Description;
        Website = profile.Website;
        SupportEmail = profile.SupportEmail!;
        Regions = JsonSerializer.Serialize(profile.Regions);
        Sla = profile.Sla;
        RefundPolicy = profile.RefundPolicy;
    }

    public IReadOnlyList<string> RegionList() => JsonSerializer.Deserialize<string[]>(Regions) ?? [];

    public ProviderView ToView() =>
        new(PartitionKey, Name, Description, Website, SupportEmail, RegionList(), Sla, RefundPolicy, CreatedAt, UpdatedAt);

    public ProviderOnboarded ToOnboardedEvent() => new(PartitionKey, Name, SupportEmail, Website, RegionList());
}
