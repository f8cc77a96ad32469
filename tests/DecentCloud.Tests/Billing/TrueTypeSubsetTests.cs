using DecentCloud.Functions.Billing.Invoices;
using SkiaSharp;

namespace DecentCloud.Tests.Billing;

public sealed class TrueTypeSubsetTests
{
    [Fact]
    public void A_subset_maps_the_kept_characters_to_the_same_glyphs_and_drops_the_rest()
    {
        var whole = InvoiceFonts.Regular.Typeface;

        using var subset = InvoiceFonts.Regular.Subset("Grüße, 1,234.56 €");

        Assert.Equal(whole.GlyphCount, subset.GlyphCount);
        foreach (var character in "Grüße,1234.56€")
        {
            Assert.Equal(whole.GetGlyph(character), subset.GetGlyph(character));
            Assert.NotEqual(0, subset.GetGlyph(character));
        }

        Assert.Equal(0, subset.GetGlyph('X'));
        using var wholeFont = new SKFont(whole, 12);
        using var subsetFont = new SKFont(subset, 12);
        Assert.Equal(wholeFont.MeasureText("Grüße, 1,234.56 €"), subsetFont.MeasureText("Grüße, 1,234.56 €"));
        Assert.True(subset.OpenStream().Length < 120_000, "the subset keeps only the glyphs asked for");
    }

    [Fact]
    public void A_subset_keeps_the_font_s_licence()
    {
        using var subset = InvoiceFonts.Bold.Subset("Paid");

        var name = subset.GetTableData(TableTag("name"));
        Assert.True(Contains(name, "Bitstream Vera Fonts Copyright"));
        Assert.True(Contains(name, "DejaVu changes are in public domain"));
    }

    // The Windows-platform names are UTF-16, big-endian.
    private static bool Contains(byte[] table, string text) =>
        table.AsSpan().IndexOf(System.Text.Encoding.BigEndianUnicode.GetBytes(text)) >= 0;

    private static uint TableTag(string tag) => (uint)((tag[0] << 24) | (tag[1] << 16) | (tag[2] << 8) | tag[3]);
}
