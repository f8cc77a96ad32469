using System.Buffers.Binary;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>
/// Cuts a TrueType font down to the glyphs a document draws. Skia's PDF backend would subset the font itself, but the
/// SkiaSharp native build has no subsetter (no HarfBuzz subset) and embeds the whole file, 760 KB for DejaVu Sans.
/// Every glyph keeps its id, so Skia's glyph ids stay valid: the outlines and metrics of the other glyphs are emptied,
/// the character map lists only the characters kept, and the tables only shaping and printers use are left out. The
/// name table, with the copyright and licence, goes with every copy, as the font's licence asks.
/// </summary>
internal static class TrueTypeSubset
{
    // What Skia and a PDF viewer need to draw the kept glyphs. GSUB, GPOS, GDEF and kern are for shaping, which the
    // invoice does not do; hdmx, LTSH and VDMX are device metrics for every glyph; MATH is for formulas.
    private static readonly string[] KeptTables =
        ["OS/2", "cmap", "cvt ", "fpgm", "gasp", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "post", "prep"];

    private const ushort MoreComponents = 0x0020;
    private const ushort ArgumentsAreWords = 0x0001;
    private const ushort HasScale = 0x0008;
    private const ushort HasXAndYScale = 0x0040;
    private const ushort HasTwoByTwo = 0x0080;

    /// <summary>
    /// A copy of <paramref name="font"/> that draws only the characters of <paramref name="glyphs"/> (code point to
    /// glyph id, as the whole font maps them), with .notdef and the parts of composite glyphs.
    /// </summary>
    public static byte[] Keep(byte[] font, IReadOnlyDictionary<int, ushort> glyphs)
    {
        var directory = Directory(font);
        ArraySegment<byte> Table(string tag) => directory.TryGetValue(tag, out var at)
            ? new ArraySegment<byte>(font, at.Offset, at.Length)
            : throw new InvalidDataException($"The font has no {tag} table.");

        var glyphCount = BinaryPrimitives.ReadUInt16BigEndian(Table("maxp").AsSpan(4));
        var metricCount = BinaryPrimitives.ReadUInt16BigEndian(Table("hhea").AsSpan(34));
        var longOffsets = BinaryPrimitives.ReadInt16BigEndian(Table("head").AsSpan(50)) == 1;
        var starts = GlyphStarts(Table("loca"), glyphCount, longOffsets);
        var glyf = Table("glyf");
        ArraySegment<byte> Glyph(int glyph) => glyf.Slice(starts[glyph], starts[glyph + 1] - starts[glyph]);

        var kept = Closure(glyphs.Values, glyphCount, Glyph);

        var newGlyf = new MemoryStream();
        var newLoca = new byte[(glyphCount + 1) * (longOffsets ? 4 : 2)];
        for (var glyph = 0; glyph <= glyphCount; glyph++)
        {
            var offset = (int)newGlyf.Length;
            if (longOffsets)
            {
                BinaryPrimitives.WriteUInt32BigEndian(newLoca.AsSpan(4 * glyph), (uint)offset);
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(newLoca.AsSpan(2 * glyph), (ushort)(offset / 2));
            }

            if (glyph < glyphCount && kept[glyph])
            {
                newGlyf.Write(Glyph(glyph));
                newGlyf.Write(new byte[Padding(newGlyf.Length)]);
            }
        }

        var hmtx = Table("hmtx").ToArray();
        for (var glyph = 0; glyph < glyphCount; glyph++)
        {
            if (!kept[glyph])
            {
                var (at, size) = glyph < metricCount ? (4 * glyph, 4) : ((4 * metricCount) + (2 * (glyph - metricCount)), 2);
                hmtx.AsSpan(at, size).Clear();
            }
        }

        // post version 3: the same header, no glyph names.
        var post = Table("post")[..32].ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(post, 0x00030000);

        var head = Table("head").ToArray();
        head.AsSpan(8, 4).Clear();

        var tables = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var tag in KeptTables.Where(directory.ContainsKey))
        {
            tables[tag] = tag switch
            {
                "glyf" => newGlyf.ToArray(),
                "loca" => newLoca,
                "hmtx" => hmtx,
                "post" => post,
                "cmap" => CharacterMap(glyphs),
                "head" => head,
                _ => Table(tag).ToArray(),
            };
        }

        return Write(font.AsSpan(0, 4), tables);
    }

    /// <summary>A cmap with one Unicode subtable (platform 3, encoding 10, format 12) for the kept characters only.</summary>
    private static byte[] CharacterMap(IReadOnlyDictionary<int, ushort> glyphs)
    {
        var groups = new List<(int First, int Last, int Glyph)>();
        foreach (var (character, glyph) in glyphs.Where(pair => pair.Value != 0).OrderBy(pair => pair.Key))
        {
            if (groups.Count > 0 && groups[^1] is var last && last.Last + 1 == character && last.Glyph + (character - last.First) == glyph)
            {
                groups[^1] = last with { Last = character };
            }
            else
            {
                groups.Add((character, character, glyph));
            }
        }

        const int header = 4 + 8;
        var subtableLength = 16 + (12 * groups.Count);
        var cmap = new byte[header + subtableLength];
        var span = cmap.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(span[4..], 3);
        BinaryPrimitives.WriteUInt16BigEndian(span[6..], 10);
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], header);
        var subtable = span[header..];
        BinaryPrimitives.WriteUInt16BigEndian(subtable, 12);
        BinaryPrimitives.WriteUInt32BigEndian(subtable[4..], (uint)subtableLength);
        BinaryPrimitives.WriteUInt32BigEndian(subtable[12..], (uint)groups.Count);
        for (var i = 0; i < groups.Count; i++)
        {
            var group = subtable[(16 + (12 * i))..];
            BinaryPrimitives.WriteUInt32BigEndian(group, (uint)groups[i].First);
            BinaryPrimitives.WriteUInt32BigEndian(group[4..], (uint)groups[i].Last);
            BinaryPrimitives.WriteUInt32BigEndian(group[8..], (uint)groups[i].Glyph);
        }

        return cmap;
    }

    private static int[] GlyphStarts(ReadOnlySpan<byte> loca, int glyphCount, bool longOffsets)
    {
        var starts = new int[glyphCount + 1];
        for (var glyph = 0; glyph <= glyphCount; glyph++)
        {
            starts[glyph] = longOffsets
                ? (int)BinaryPrimitives.ReadUInt32BigEndian(loca[(4 * glyph)..])
                : 2 * BinaryPrimitives.ReadUInt16BigEndian(loca[(2 * glyph)..]);
        }

        return starts;
    }

    /// <summary>The glyphs to keep: the ones asked for, .notdef, and every component of a composite glyph among them.</summary>
    private static bool[] Closure(IEnumerable<ushort> glyphs, int glyphCount, Func<int, ArraySegment<byte>> data)
    {
        var kept = new bool[glyphCount];
        var pending = new Stack<int>();
        void Add(int glyph)
        {
            if (glyph < glyphCount && !kept[glyph])
            {
                kept[glyph] = true;
                pending.Push(glyph);
            }
        }

        Add(0);
        foreach (var glyph in glyphs)
        {
            Add(glyph);
        }

        while (pending.TryPop(out var glyph))
        {
            foreach (var component in Components(data(glyph)))
            {
                Add(component);
            }
        }

        return kept;
    }

    private static List<int> Components(ReadOnlySpan<byte> glyph)
    {
        var components = new List<int>();
        if (glyph.Length < 10 || BinaryPrimitives.ReadInt16BigEndian(glyph) >= 0)
        {
            return components;
        }

        var at = 10;
        ushort flags;
        do
        {
            flags = BinaryPrimitives.ReadUInt16BigEndian(glyph[at..]);
            components.Add(BinaryPrimitives.ReadUInt16BigEndian(glyph[(at + 2)..]));
            at += 4 + ((flags & ArgumentsAreWords) != 0 ? 4 : 2);
            at += (flags & HasTwoByTwo) != 0 ? 8 : (flags & HasXAndYScale) != 0 ? 4 : (flags & HasScale) != 0 ? 2 : 0;
        }
        while ((flags & MoreComponents) != 0 && at + 4 <= glyph.Length);

        return components;
    }

    private static Dictionary<string, (int Offset, int Length)> Directory(ReadOnlySpan<byte> font)
    {
        var count = BinaryPrimitives.ReadUInt16BigEndian(font[4..]);
        var directory = new Dictionary<string, (int, int)>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var record = font.Slice(12 + (16 * i), 16);
            var tag = System.Text.Encoding.ASCII.GetString(record[..4]);
            directory[tag] = ((int)BinaryPrimitives.ReadUInt32BigEndian(record[8..]), (int)BinaryPrimitives.ReadUInt32BigEndian(record[12..]));
        }

        return directory;
    }

    private static byte[] Write(ReadOnlySpan<byte> version, SortedDictionary<string, byte[]> tables)
    {
        var count = tables.Count;
        var searchRange = 16 * (1 << (int)Math.Log2(count));
        var output = new byte[12 + (16 * count) + tables.Values.Sum(table => table.Length + Padding(table.Length))];
        version.CopyTo(output);
        BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(4), (ushort)count);
        BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(6), (ushort)searchRange);
        BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(8), (ushort)Math.Log2(count));
        BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(10), (ushort)((16 * count) - searchRange));

        var offset = 12 + (16 * count);
        var headOffset = 0;
        var record = 12;
        foreach (var (tag, table) in tables)
        {
            System.Text.Encoding.ASCII.GetBytes(tag, output.AsSpan(record));
            BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(record + 4), Checksum(table));
            BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(record + 8), (uint)offset);
            BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(record + 12), (uint)table.Length);
            table.CopyTo(output, offset);
            headOffset = tag == "head" ? offset : headOffset;
            offset += table.Length + Padding(table.Length);
            record += 16;
        }

        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(headOffset + 8), 0xB1B0AFBA - Checksum(output));
        return output;
    }

    private static uint Checksum(ReadOnlySpan<byte> data)
    {
        var sum = 0u;
        for (var at = 0; at < data.Length; at += 4)
        {
            var word = 0u;
            for (var i = 0; i < 4; i++)
            {
                word = (word << 8) | (at + i < data.Length ? data[at + i] : 0u);
            }

            sum += word;
        }

        return sum;
    }

    private static int Padding(long length) => (int)((4 - (length % 4)) % 4);
}
