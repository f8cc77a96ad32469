using System.Globalization;
using SkiaSharp;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>
/// Lays out one invoice or credit note on A4 pages, in points, y growing downwards. Everything but the notes is
/// bounded (long names and addresses wrap, then end in an ellipsis; long amounts shrink to their column), so the
/// document fits one page; notes that do not fit continue on another page rather than being cut. The layout is
/// measured with the whole fonts and recorded first, then painted with fonts cut down to the characters it uses.
/// </summary>
internal sealed class InvoiceSheet(InvoiceDocument document) : IDisposable
{
    private const float PageWidth = 595;
    private const float PageHeight = 842;
    private const float Left = 50;
    private const float Right = PageWidth - 50;
    private const float Top = 48;
    private const float FooterRule = PageHeight - 52;

    // Text keeps to the margins; shaded bands and rules reach this far beyond them, so text inside a band has room.
    private const float Bleed = 8;

    // Line-item columns: left edges of the text columns, right edges of the number columns.
    private const float DescriptionWidth = 172;
    private const float PeriodX = 236;
    private const float PeriodWidth = 128;
    private const float HoursRight = 430;

    // The right-hand column (details, totals) and the left-hand blocks beside it.
    private const float SideX = 330;
    private const float BlockWidth = 255;

    private static readonly SKColor Ink = new(0x1F, 0x29, 0x37);
    private static readonly SKColor Muted = new(0x6B, 0x72, 0x80);
    private static readonly SKColor Hairline = new(0xD1, 0xD5, 0xDB);
    private static readonly SKColor Band = new(0xF3, 0xF4, 0xF6);
    private static readonly SKColor PaidGreen = new(0x04, 0x78, 0x57);
    private static readonly SKColor RefundAmber = new(0xB4, 0x53, 0x09);

    private static readonly Style TitleText = new(true, 24, Ink);
    private static readonly Style NumberText = new(true, 11, Muted);
    private static readonly Style SellerText = new(true, 14, Ink);
    private static readonly Style NameText = new(true, 10, Ink);
    private static readonly Style BodyText = new(false, 9, Ink);
    private static readonly Style MutedText = new(false, 9, Muted);
    private static readonly Style CaptionText = new(true, 7.5f, Muted);
    private static readonly Style GrossText = new(true, 11, Ink);
    private static readonly Style FooterText = new(false, 7.5f, Muted);

    private readonly SKFont regular = Measuring(InvoiceFonts.Regular.Typeface);
    private readonly SKFont bold = Measuring(InvoiceFonts.Bold.Typeface);
    private readonly bool credit = document.Kind == InvoiceKind.CreditNote;
    private readonly List<List<Mark>> pages = [];

    public static string Title(InvoiceKind kind) => kind == InvoiceKind.CreditNote ? "Credit note" : "Invoice";

    public void Render(SKDocument pdf)
    {
        NewPage();
        var y = Header(Top);
        y = BillToAndDetails(y);
        y = LineItems(y + 22);
        y = PaymentAndTotals(y + 18);
        Notes(y + 22);
        EndPage();
        Paint(pdf);
    }

    public void Dispose()
    {
        regular.Dispose();
        bold.Dispose();
    }

    private void Paint(SKDocument pdf)
    {
        var texts = pages.SelectMany(marks => marks).OfType<TextMark>().ToList();
        using var regularFace = InvoiceFonts.Regular.Subset(string.Concat(texts.Where(text => !text.Bold).Select(text => text.Text)));
        using var boldFace = InvoiceFonts.Bold.Subset(string.Concat(texts.Where(text => text.Bold).Select(text => text.Text)));
        using var regularFont = Measuring(regularFace);
        using var boldFont = Measuring(boldFace);
        using var paint = new SKPaint { IsAntialias = true };
        foreach (var marks in pages)
        {
            var canvas = pdf.BeginPage(PageWidth, PageHeight) ?? throw new InvalidOperationException("Skia could not begin a PDF page.");
            foreach (var mark in marks)
            {
                paint.Color = mark.Color;
                switch (mark)
                {
                    case TextMark text:
                        var font = text.Bold ? boldFont : regularFont;
                        font.Size = text.Size;
                        canvas.DrawText(text.Text, text.X, text.Baseline, text.Align, font, paint);
                        break;
                    case RuleMark rule:
                        paint.StrokeWidth = 0.75f;
                        canvas.DrawLine(rule.From, rule.Y, rule.To, rule.Y, paint);
                        break;
                    case FillMark fill:
                        canvas.DrawRect(fill.Area, paint);
                        break;
                }
            }

            pdf.EndPage();
        }
    }

    private static SKFont Measuring(SKTypeface typeface) => new(typeface) { Subpixel = true, LinearMetrics = true };

    private float Header(float top)
    {
        var seller = document.Seller;
        var left = Lines(Wrap(seller.Name, SellerText, BlockWidth, 2), Left, top, SellerText);
        left = Lines(PartyLines(seller, document.SellerIban, MutedText), Left, left + 3, MutedText);

        var right = top;
        Text(Title(document.Kind), Right, Baseline(right, TitleText), TitleText, SKTextAlign.Right, Right - SideX);
        right += TitleText.LineHeight;
        Text(document.Number, Right, Baseline(right, NumberText), NumberText, SKTextAlign.Right, Right - SideX);
        right += NumberText.LineHeight;

        var bottom = Math.Max(left, right) + 14;
        Rule(bottom);
        return bottom + 16;
    }

    private float BillToAndDetails(float top)
    {
        var buyer = document.Buyer;
        var left = Lines(["Bill to"], Left, top, CaptionText);
        left = Lines(Wrap(buyer.Name, NameText, BlockWidth, 3), Left, left + 2, NameText);
        left = Lines(PartyLines(buyer, iban: null, BodyText), Left, left + 1, BodyText);

        var right = Lines(["Details"], SideX, top, CaptionText) + 2;
        right = Detail("Issue date", Date(document.IssuedAt), right);
        if (credit && document.RefersTo is { } invoice)
        {
            right = Detail("Refers to invoice", invoice, right);
        }

        right = Detail("Contract", document.ContractId, right);
        right = Detail("Currency", document.Currency.ToUpperInvariant(), right);
        return Math.Max(left, right);
    }

    private float Detail(string label, string value, float top)
    {
        var labelWidth = Measure(label, MutedText) + 12;
        Text(label, SideX, Baseline(top, MutedText), MutedText);
        return Lines(Wrap(value, BodyText, Right - SideX - labelWidth, 2), Right, top, BodyText, SKTextAlign.Right);
    }

    private float LineItems(float top)
    {
        const float headerHeight = 20;
        Shade(top, top + headerHeight);
        var header = top + (headerHeight - CaptionText.LineHeight) / 2;
        var headerBaseline = Baseline(header, CaptionText);
        Text("Description", Left, headerBaseline, CaptionText);
        Text("Period (UTC)", PeriodX, headerBaseline, CaptionText);
        Text("Hours", HoursRight, headerBaseline, CaptionText, SKTextAlign.Right);
        Text("Net", Right, headerBaseline, CaptionText, SKTextAlign.Right);

        var row = top + headerHeight + 8;
        var baseline = Baseline(row, BodyText);
        var description = Lines(Wrap(document.Description, BodyText, DescriptionWidth, 3), Left, row, BodyText);
        Text($"{Date(document.PeriodStart)} \u2013 {Date(document.PeriodEnd)}", PeriodX, baseline, BodyText, maxWidth: PeriodWidth);
        Text(document.Hours.ToString("N0", CultureInfo.InvariantCulture), HoursRight, baseline, BodyText, SKTextAlign.Right, HoursRight - PeriodX - PeriodWidth - 8);
        Text(Amount(document.NetMinor), Right, baseline, BodyText, SKTextAlign.Right, Right - HoursRight - 8);

        var bottom = description + 8;
        Rule(bottom);
        return bottom;
    }

    private float PaymentAndTotals(float top)
    {
        var status = credit ? "Refunded" : "Paid";
        var left = Lines([status], Left, top, GrossText with { Color = credit ? RefundAmber : PaidGreen });
        left = Lines(Wrap($"Payment: {document.PaymentMethod}, reference {document.PaymentReference}", BodyText, BlockWidth, 3), Left, left + 2, BodyText);

        const float rowGap = 2;
        const float grossPadding = 5;
        var right = Total("Net", document.NetMinor, top, BodyText) + rowGap;
        right = Total($"VAT {MoneyFormat.Rate(document.VatRatePercent)}", document.VatMinor, right, BodyText) + rowGap;
        right += 4;
        Shade(right, right + GrossText.LineHeight + (2 * grossPadding), SideX - Bleed);
        right = Total("Gross", document.GrossMinor, right + grossPadding, GrossText) + grossPadding;
        return Math.Max(left, right);
    }

    private float Total(string label, long minor, float top, Style style)
    {
        var baseline = Baseline(top, style);
        Text(label, SideX, baseline, style);
        var labelWidth = Measure(label, style) + 12;
        Text(Amount(minor), Right, baseline, style, SKTextAlign.Right, Right - SideX - labelWidth);
        return top + style.LineHeight;
    }

    private void Notes(float top)
    {
        if (document.Notes.Count == 0)
        {
            return;
        }

        top = Lines(["Notes"], Left, top, CaptionText) + 2;
        foreach (var note in document.Notes)
        {
            foreach (var line in Wrap(note, BodyText, Right - Left, int.MaxValue))
            {
                if (top + BodyText.LineHeight > FooterRule - 8)
                {
                    EndPage();
                    NewPage();
                    top = Lines([$"{Title(document.Kind)} {document.Number}, continued"], Left, Top, MutedText) + 8;
                }

                top = Lines([line], Left, top, BodyText);
            }

            top += 4;
        }
    }

    private void NewPage() => pages.Add([]);

    private void EndPage()
    {
        Rule(FooterRule);
        var baseline = Baseline(FooterRule + 6, FooterText);
        var pageText = $"{document.Number} \u00b7 Page {pages.Count.ToString(CultureInfo.InvariantCulture)}";
        Text(pageText, Right, baseline, FooterText, SKTextAlign.Right);

        var seller = document.Seller.VatId is { } vatId ? $"{document.Seller.Name} \u00b7 VAT ID {vatId}" : document.Seller.Name;
        var room = Right - Left - Measure(pageText, FooterText) - 24;
        Text(Truncate(seller, FooterText, room), Left, baseline, FooterText);
    }

    private List<string> PartyLines(InvoiceParty party, string? iban, Style style)
    {
        var lines = new List<string>();
        void Line(string? text, int maxLines)
        {
            if (!string.IsNullOrWhiteSpace(text))
            {
                lines.AddRange(Wrap(text, style, BlockWidth, maxLines));
            }
        }

        Line(party.Line1, 2);
        Line(party.Line2, 2);
        Line($"{party.PostalCode} {party.City}", 2);
        Line(party.Country, 1);
        Line(party.VatId is { } vatId ? $"VAT ID: {vatId}" : null, 1);
        Line(iban is { } account ? $"IBAN: {account}" : null, 1);
        return lines;
    }

    private string Amount(long minor) => MoneyFormat.Format(credit ? -minor : minor, document.Currency);

    private static string Date(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static float Baseline(float top, Style style) => top + style.Size * 1.08f;

    private float Lines(IEnumerable<string> lines, float x, float top, Style style, SKTextAlign align = SKTextAlign.Left)
    {
        foreach (var line in lines)
        {
            Text(line, x, Baseline(top, style), style, align);
            top += style.LineHeight;
        }

        return top;
    }

    /// <summary>Draws one line; text wider than <paramref name="maxWidth"/> is drawn smaller until it fits.</summary>
    private void Text(string text, float x, float baseline, Style style, SKTextAlign align = SKTextAlign.Left, float maxWidth = float.MaxValue)
    {
        var width = Measure(text, style);
        var size = width > maxWidth ? style.Size * maxWidth / width : style.Size;
        Add(new TextMark(text, x, baseline, align, style.Bold, size, style.Color));
    }

    /// <summary>
    /// Breaks <paramref name="text"/> into lines no wider than <paramref name="width"/>, at spaces where it can and
    /// inside a word only when the word alone is too wide; beyond <paramref name="maxLines"/> the last line ends in "…".
    /// </summary>
    private List<string> Wrap(string text, Style style, float width, int maxLines)
    {
        var font = Font(style);
        var lines = new List<string>();
        foreach (var paragraph in text.Split('\n'))
        {
            var line = "";
            foreach (var word in paragraph.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                var joined = line.Length == 0 ? word : $"{line} {word}";
                if (font.MeasureText(joined) <= width)
                {
                    line = joined;
                    continue;
                }

                if (line.Length > 0)
                {
                    lines.Add(line);
                }

                line = word;
                while (font.MeasureText(line) > width)
                {
                    var fits = Fits(line, font, width);
                    lines.Add(line[..fits]);
                    line = line[fits..];
                }
            }

            if (line.Length > 0)
            {
                lines.Add(line);
            }
        }

        if (lines.Count > maxLines)
        {
            lines.RemoveRange(maxLines, lines.Count - maxLines);
            lines[^1] = Truncate(lines[^1] + "\u2026", style, width);
        }

        return lines;
    }

    private string Truncate(string text, Style style, float width)
    {
        var font = Font(style);
        if (font.MeasureText(text) <= width)
        {
            return text;
        }

        var kept = text.TrimEnd('\u2026');
        return kept[..Fits(kept, font, width - font.MeasureText("\u2026"))].TrimEnd() + "\u2026";
    }

    /// <summary>
    /// How many leading characters of <paramref name="text"/> fit in <paramref name="width"/>: at least one (so that
    /// breaking always moves on), never half a surrogate pair.
    /// </summary>
    private static int Fits(string text, SKFont font, float width)
    {
        var fits = (int)font.BreakText(text, Math.Max(width, 0));
        if (fits > 1 && fits < text.Length && char.IsHighSurrogate(text[fits - 1]))
        {
            fits--;
        }

        return Math.Clamp(fits, Math.Min(1, text.Length), text.Length);
    }

    private float Measure(string text, Style style) => Font(style).MeasureText(text);

    private void Rule(float y) => Add(new RuleMark(y, Left - Bleed, Right + Bleed, Hairline));

    private void Shade(float top, float bottom, float from = Left - Bleed) => Add(new FillMark(new SKRect(from, top, Right + Bleed, bottom), Band));

    private void Add(Mark mark) => pages[^1].Add(mark);

    private SKFont Font(Style style)
    {
        var font = style.Bold ? bold : regular;
        font.Size = style.Size;
        return font;
    }

    private readonly record struct Style(bool Bold, float Size, SKColor Color)
    {
        public float LineHeight => Size * 1.45f;
    }

    private abstract record Mark(SKColor Color);

    private sealed record TextMark(string Text, float X, float Baseline, SKTextAlign Align, bool Bold, float Size, SKColor Color) : Mark(Color);

    private sealed record RuleMark(float Y, float From, float To, SKColor Color) : Mark(Color);

    private sealed record FillMark(SKRect Area, SKColor Color) : Mark(Color);
}
