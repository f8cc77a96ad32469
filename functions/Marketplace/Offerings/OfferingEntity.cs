using Azure;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Marketplace.Offerings;

/// <summary>A row of the <c>Offerings</c> table: PartitionKey the provider's public key (lower-case hex), RowKey the offering id.</summary>
public sealed class OfferingEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Name { get; set; } = "";

    public string ProductType { get; set; } = "";

    public int CpuCores { get; set; }

    public int RamGb { get; set; }

    public int DiskGb { get; set; }

    public string? Gpu { get; set; }

    public int BandwidthMbps { get; set; }

    public string Country { get; set; } = "";

    public string City { get; set; } = "";

    public long MonthlyPriceMinor { get; set; }

    public string Currency { get; set; } = "";

    public int MinHours { get; set; }

    public int MaxHours { get; set; }

    public string ProvisionerType { get; set; } = "";

    public string? ProvisionerConfigRef { get; set; }

    public int Stock { get; set; }

    /// <summary>A hidden offering is kept but neither readable nor found by anyone but its provider's writes.</summary>
    public bool Hidden { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public void Apply(OfferingSpec spec)
    {
        Name = spec.Name!;
        ProductType = spec.ProductType!;
        CpuCores = spec.CpuCores!.Value;
        RamGb = spec.RamGb!.Value;
        DiskGb = spec.DiskGb!.Value;
        Gpu = spec.Gpu;
        BandwidthMbps = spec.BandwidthMbps!.Value;
        Country = spec.Country!;
        City = spec.City!;
        MonthlyPriceMinor = spec.MonthlyPriceMinor!.Value;
        Currency = spec.Currency!;
        MinHours = spec.MinHours!.Value;
        MaxHours = spec.MaxHours!.Value;
        ProvisionerType = spec.ProvisionerType!;
        ProvisionerConfigRef = spec.ProvisionerConfigRef;
        Stock = spec.Stock!.Value;
    }

    public OfferingView ToView() => new(
        RowKey, PartitionKey, Name, ProductType, CpuCores, RamGb, DiskGb, Gpu, BandwidthMbps, Country, City,
        MonthlyPriceMinor, Currency, MinHours, MaxHours, ProvisionerType, ProvisionerConfigRef, Stock, Hidden, CreatedAt, UpdatedAt);
}
