using System.Globalization;
using DecentCloud.Functions.Billing.Vat;
using DecentCloud.Functions.Marketplace.Accounts;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary>
/// Works out what the renter pays through ICPay for a contract: the contract's price is the net, the VAT is added on top
/// as Stripe Tax adds it at Checkout (the buyer's billing country, reverse charge for a VIES-confirmed business in
/// another member state; <see cref="VatDecision.OnTop"/>), and the gross is converted to the token's smallest units.
/// The quote is stored, replacing the last, because the webhook accepts exactly that amount and the invoice shows it.
/// </summary>
public sealed partial class IcpayCheckouts(ContractRows rows, VatIdChecks vatIds, EuVatRates rates, IOptionsMonitor<SellerOptions> seller, TimeProvider time, ILogger<IcpayCheckouts> logger)
{
    public async Task<IcpayQuoteEntity> QuoteAsync(ContractEntity contract, BillingEntity billing, IcpayToken token, CancellationToken cancellationToken)
    {
        var sellerNow = seller.CurrentValue;
        var buyerVatId = string.IsNullOrWhiteSpace(billing.VatId) ? null : billing.VatId.Trim();
        var check = buyerVatId is null ? null : await vatIds.CheckAsync(buyerVatId, cancellationToken);
        var vat = VatDecision.OnTop(
            new VatInput(sellerNow.Country?.Trim() ?? "", sellerNow.VatId, billing.Country, buyerVatId, check?.Status ?? VatIdStatus.None, contract.PriceMinor, null),
            rates);

        var quote = new IcpayQuoteEntity
        {
            PartitionKey = contract.PartitionKey,
            Currency = contract.Currency,
            NetMinor = vat.NetMinor,
            VatMinor = vat.VatMinor,
            GrossMinor = vat.GrossMinor,
            VatRatePercent = vat.RatePercent.ToString(CultureInfo.InvariantCulture),
            VatTreatment = vat.Treatment.ToString(),
            VatSource = vat.Source,
            Token = token.Symbol,
            Shortcode = token.Shortcode ?? token.Symbol,
            Decimals = token.Decimals,
            AmountUnits = token.ToUnits(vat.GrossMinor),
            BuyerName = billing.LegalName,
            BuyerLine1 = billing.Line1,
            BuyerLine2 = billing.Line2,
            BuyerCity = billing.City,
            BuyerPostalCode = billing.PostalCode,
            BuyerCountry = billing.Country,
            BuyerVatId = buyerVatId,
            BuyerEmail = billing.InvoiceEmail,
            QuotedAt = time.GetUtcNow(),
        };

        // The last quote stands: a renter who changed their billing country between two calls pays the second one's amount.
        await rows.Table.UpsertEntityAsync(quote, Azure.Data.Tables.TableUpdateMode.Replace, cancellationToken);
        LogQuoted(logger, contract.PartitionKey, quote.GrossMinor, quote.Currency, quote.VatMinor, quote.AmountUnits, quote.Token);
        return quote;
    }

    [LoggerMessage(EventId = 8704, Level = LogLevel.Information, Message = "ICPay checkout for contract {ContractId}: {GrossMinor} {Currency} (VAT {VatMinor}) = {AmountUnits} {Token} units")]
    private static partial void LogQuoted(ILogger logger, string contractId, long grossMinor, string currency, long vatMinor, long amountUnits, string token);
}

/// <summary>
/// What the web client hands the ICPay SDK (<c>createPayment</c>): <paramref name="Amount"/> in the token's smallest
/// units, as a string, <paramref name="TokenShortcode"/>, and <paramref name="Metadata"/>, to be passed as it is: it
/// carries the contract id under the one key the webhook reads (<see cref="IcpayMetadata.ContractIdKey"/>).
/// </summary>
public sealed record IcpayCheckoutView(
    string ContractId,
    string Amount,
    string TokenShortcode,
    string Symbol,
    int Decimals,
    IReadOnlyDictionary<string, string> Metadata,
    string Currency,
    long NetMinor,
    long VatMinor,
    long GrossMinor,
    string VatRatePercent,
    string VatTreatment,
    DateTimeOffset QuotedAt)
{
    public static IcpayCheckoutView Of(IcpayQuoteEntity quote) => new(
        quote.PartitionKey,
        quote.AmountUnits.ToString(CultureInfo.InvariantCulture),
        quote.Shortcode,
        quote.Token,
        quote.Decimals,
        new Dictionary<string, string> { [IcpayMetadata.ContractIdKey] = quote.PartitionKey },
        quote.Currency,
        quote.NetMinor,
        quote.VatMinor,
        quote.GrossMinor,
        quote.VatRatePercent,
        quote.VatTreatment,
        quote.QuotedAt);
}
