using System.Globalization;
using System.Numerics;

namespace DecentCloud.Functions.Billing.Icpay;

/// <summary>
/// Which ICPay tokens pay for which contract currency (docs/icpay.md, "Tokens"). Only fiat-backed stablecoins, one to
/// one with the currency they track, so that an amount in the token's smallest units is an exact multiple of the
/// contract's minor units and no exchange rate is involved: USDC (Circle's, on EVM chains and Solana; ckUSDC on the
/// Internet Computer) for USD, EURC (ckEURC on the Internet Computer) for EUR, all with 6 decimals. Anything else (ICP,
/// ETH, SOL, a token of another currency) is refused: at checkout for a contract in another currency, and at the webhook
/// a payment in it is not accepted as paid.
/// </summary>
public static class IcpayTokens
{
    /// <summary>Minor units of USD and EUR (cents).</summary>
    private const int CurrencyDecimals = 2;

    private static readonly IcpayToken[] Known =
    [
        new("USD", "USDC", "base_usdc", 6, ["evm", "sol"]),
        new("USD", "ckUSDC", null, 6, ["ic"]),
        new("EUR", "EURC", "base_eurc", 6, ["evm", "sol"]),
        new("EUR", "ckEURC", null, 6, ["ic"]),
    ];

    /// <summary>The token the checkout offers for a contract currency; null when ICPay cannot take that currency.</summary>
    public static IcpayToken? ForCheckout(string currency) =>
        Known.FirstOrDefault(t => string.Equals(t.Currency, currency, StringComparison.OrdinalIgnoreCase) && t.Shortcode is not null);

    /// <summary>The token a payment was made in, by ICPay's <c>token</c> and <c>network</c>; null for one not accepted.</summary>
    public static IcpayToken? Of(string? symbol, string? network) =>
        Known.FirstOrDefault(t => string.Equals(t.Symbol, symbol, StringComparison.OrdinalIgnoreCase) && t.Networks.Contains(network ?? "", StringComparer.OrdinalIgnoreCase));

    /// <summary>ICPay's amounts are decimal strings in the token's smallest units; null for anything else (or a negative, or more than a long).</summary>
    public static long? ParseUnits(string? amount) =>
        amount is { Length: > 0 and <= 19 } && amount.All(char.IsAsciiDigit) && long.TryParse(amount, NumberStyles.None, CultureInfo.InvariantCulture, out var units)
            ? units
            : null;

    /// <summary>An amount in the contract currency's minor units, in the token's smallest units.</summary>
    public static long ToUnits(this IcpayToken token, long minor) =>
        checked(minor * (long)BigInteger.Pow(10, token.Decimals - CurrencyDecimals));

    /// <summary>Token units as the currency's minor units; null when they are not a whole number of them.</summary>
    public static long? ToMinor(this IcpayToken token, long units)
    {
        var factor = (long)BigInteger.Pow(10, token.Decimals - CurrencyDecimals);
        return units % factor == 0 ? units / factor : null;
    }
}

/// <param name="Currency">The contract currency the token pays, one to one.</param>
/// <param name="Symbol">ICPay's <c>token</c> of a payment in it.</param>
/// <param name="Shortcode">ICPay's token shortcode the checkout hands the SDK (<c>tokenShortcode</c>); null for a variant only accepted.</param>
/// <param name="Decimals">The token's decimals: its smallest unit is 10^-Decimals of the currency.</param>
/// <param name="Networks">ICPay's <c>network</c> values the token is accepted on.</param>
public sealed record IcpayToken(string Currency, string Symbol, string? Shortcode, int Decimals, IReadOnlyList<string> Networks);

/// <summary>
/// The one metadata key that carries the contract id from the checkout, through ICPay, to the webhook. The original
/// system's web client sent <c>contractId</c> while its webhook read <c>contract_id</c>, so no real payment was ever
/// recorded; here both sides use this constant, and a test feeds the checkout's own answer to the webhook.
/// </summary>
public static class IcpayMetadata
{
    public const string ContractIdKey = "contractId";
}
