using DecentCloud.Functions.Billing.Invoices;

namespace DecentCloud.Tests.Billing;

public sealed class MoneyFormatTests
{
    [Theory]
    [InlineData(123456, "EUR", "1,234.56 EUR")]
    [InlineData(5, "EUR", "0.05 EUR")]
    [InlineData(0, "CHF", "0.00 CHF")]
    [InlineData(100, "usd", "1.00 USD")]
    [InlineData(123456, "JPY", "123,456 JPY")]
    [InlineData(7, "KRW", "7 KRW")]
    [InlineData(1234567, "KWD", "1,234.567 KWD")]
    [InlineData(5, "BHD", "0.005 BHD")]
    public void Amounts_print_with_the_currency_s_iso_4217_decimals_and_thousands_separators(long minor, string currency, string expected)
    {
        Assert.Equal(expected, MoneyFormat.Format(minor, currency));
    }

    [Theory]
    [InlineData(-123456, "EUR", "-1,234.56 EUR")]
    [InlineData(-5, "EUR", "-0.05 EUR")]
    [InlineData(-1000, "JPY", "-1,000 JPY")]
    [InlineData(-1, "KWD", "-0.001 KWD")]
    public void Negative_amounts_print_with_a_leading_minus(long minor, string currency, string expected)
    {
        Assert.Equal(expected, MoneyFormat.Format(minor, currency));
    }

    [Fact]
    public void The_largest_amounts_print_exactly_without_rounding()
    {
        Assert.Equal("92,233,720,368,547,758.07 EUR", MoneyFormat.Format(long.MaxValue, "EUR"));
        Assert.Equal("-92,233,720,368,547,758.08 EUR", MoneyFormat.Format(long.MinValue, "EUR"));
        Assert.Equal("9,223,372,036,854,775.807 KWD", MoneyFormat.Format(long.MaxValue, "KWD"));
        Assert.Equal("9,223,372,036,854,775,807 JPY", MoneyFormat.Format(long.MaxValue, "JPY"));
        Assert.Equal("90,071,992,547,409.93 EUR", MoneyFormat.Format(9_007_199_254_740_993, "EUR"));
    }

    [Theory]
    [InlineData("19", "19.00 %")]
    [InlineData("8.1", "8.10 %")]
    [InlineData("25.5", "25.50 %")]
    [InlineData("0", "0.00 %")]
    [InlineData("19.000", "19.00 %")]
    [InlineData("8.125", "8.125 %")]
    public void Rates_print_with_at_least_two_decimals_and_never_lose_one(string percent, string expected)
    {
        Assert.Equal(expected, MoneyFormat.Rate(decimal.Parse(percent, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData("JPY", 0)]
    [InlineData("ISK", 0)]
    [InlineData("XOF", 0)]
    [InlineData("KWD", 3)]
    [InlineData("TND", 3)]
    [InlineData("EUR", 2)]
    [InlineData("SEK", 2)]
    public void Minor_unit_exponents_follow_iso_4217(string currency, int exponent)
    {
        Assert.Equal(exponent, MoneyFormat.MinorUnitExponent(currency));
    }
}
