using SkiaSharp;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>
/// The DejaVu Sans typefaces the invoice PDF embeds (licence: Fonts/LICENSE-DejaVu.txt). They come from the assembly,
/// not the system: the hosts have no fontconfig, so <see cref="SKTypeface.Default"/> has no glyphs. Loaded once, on
/// first use; a typeface is immutable, so every render on every thread shares it.
/// </summary>
internal static class InvoiceFonts
{
    private static readonly Lazy<EmbeddedFont> regular = new(() => EmbeddedFont.Load("DejaVuSans.ttf"));
    private static readonly Lazy<EmbeddedFont> bold = new(() => EmbeddedFont.Load("DejaVuSans-Bold.ttf"));

    public static EmbeddedFont Regular => regular.Value;

    public static EmbeddedFont Bold => bold.Value;
}

/// <summary>One embedded font: the whole typeface, to measure and lay out with, and its file, to cut subsets from.</summary>
internal sealed class EmbeddedFont(byte[] file, SKTypeface typeface)
{
    public SKTypeface Typeface { get; } = typeface;

    public static EmbeddedFont Load(string file)
    {
        var name = "DecentCloud.Invoices." + file;
        using var resource = typeof(InvoiceFonts).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded font {name} is missing from the assembly.");
        var bytes = new byte[resource.Length];
        resource.ReadExactly(bytes);
        return new EmbeddedFont(bytes, FromBytes(bytes, name));
    }

    /// <summary>
    /// A typeface with only the glyphs of <paramref name="text"/>, for one document: Skia embeds the font file it is
    /// given whole (<see cref="TrueTypeSubset"/>), so the PDF should be given no more than it draws.
    /// </summary>
    public SKTypeface Subset(string text)
    {
        var glyphs = new Dictionary<int, ushort>();
        foreach (var character in text.EnumerateRunes())
        {
            glyphs.TryAdd(character.Value, Typeface.GetGlyph(character.Value));
        }

        return FromBytes(TrueTypeSubset.Keep(file, glyphs), Typeface.FamilyName);
    }

    private static SKTypeface FromBytes(byte[] bytes, string name)
    {
        // SKData copies the bytes into native memory, and the typeface keeps its own reference to them.
        using var data = SKData.CreateCopy(bytes);
        return SKTypeface.FromData(data) ?? throw new InvalidOperationException($"Skia cannot read the font {name}.");
    }
}
