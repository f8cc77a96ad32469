using DecentCloud.Functions.Billing.Invoices;

namespace DecentCloud.Tests.Billing;

public sealed class PostalAddressTests
{
    [Theory]
    [InlineData("10115 Berlin", "10115", "Berlin")]
    [InlineData("75001 Paris", "75001", "Paris")]
    [InlineData("1012 AB Amsterdam", "1012 AB", "Amsterdam")]
    [InlineData("00-950 Warszawa", "00-950", "Warszawa")]
    [InlineData("D-10115 Berlin", "D-10115", "Berlin")]
    [InlineData("111 22 Stockholm", "111 22", "Stockholm")]
    [InlineData("1010 Wien", "1010", "Wien")]
    [InlineData("20121 Milano MI", "20121", "Milano MI")]
    [InlineData("London SW1A 1AA", "SW1A 1AA", "London")]
    [InlineData("Dublin D02 X285", "D02 X285", "Dublin")]
    [InlineData("Berlin 10115", "10115", "Berlin")]
    [InlineData("Valletta", "", "Valletta")]
    public void The_last_address_line_is_read_as_postal_code_and_city_in_either_order(string line, string postalCode, string city)
    {
        Assert.Equal((postalCode, city), PostalAddress.PostalCodeAndCity(line));
    }

    [Fact]
    public void The_first_line_is_the_street_and_the_lines_between_become_the_second_line()
    {
        Assert.Equal(new PostalAddress("Chausseestraße 10", null, "10115", "Berlin"), PostalAddress.FromLines(["Chausseestraße 10", "10115 Berlin"]));
        Assert.Equal(new PostalAddress("Hof 3", "Aufgang B, 2. OG", "10115", "Berlin"), PostalAddress.FromLines(["Hof 3", "Aufgang B", "2. OG", "10115 Berlin"]));
        Assert.Equal(new PostalAddress("Postfach 12", null, "", ""), PostalAddress.FromLines(["Postfach 12"]));
    }
}
