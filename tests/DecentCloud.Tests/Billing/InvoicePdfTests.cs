using System.Diagnostics;
using System.Text.RegularExpressions;
using DecentCloud.Functions.Billing.Invoices;
using DecentCloud.Functions.Billing.Vat;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;

namespace DecentCloud.Tests.Billing;

public sealed partial class InvoicePdfTests
{
    private const double A4Width = 595;
    private const double A4Height = 842;

    private static readonly InvoiceParty Seller = new(
        "Decent Cloud GmbH", "Musterstraße 1", "3. OG", "Berlin", "10115", "DE", "DE123456789");

    private static readonly InvoiceParty Buyer = new(
        "Acme Hosting SARL", "12 rue de la Paix", null, "Paris", "75002", "FR", "FR40303265045");

    private static InvoiceDocument Invoice() => new(
        InvoiceKind.Invoice,
        "INV-2025-000042",
        new DateTimeOffset(2025, 3, 14, 9, 30, 0, TimeSpan.Zero),
        RefersTo: null,
        Seller,
        SellerIban: "DE89370400440532013000",
        Buyer,
        "GPU node gpu-a100-80g (eu-central)",
        Hours: 720,
        PeriodStart: new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero),
        PeriodEnd: new DateTimeOffset(2025, 3, 31, 0, 0, 0, TimeSpan.Zero),
        "EUR",
        NetMinor: 123456,
        VatRatePercent: 19m,
        VatMinor: 23457,
        GrossMinor: 146913,
        VatTreatment.Standard,
        "card (Stripe)",
        "pi_3PqRsT2eZvKYlo2C1aBcDeFg",
        "ctr_01HZX3J8Q4W5E6R7T8Y9U0",
        ["Thank you for choosing Decent Cloud."]);

    [Fact]
    public void An_invoice_pdf_carries_seller_buyer_vat_id_rate_amounts_and_notes()
    {
        var text = TextOf(InvoicePdf.Render(Invoice()));

        Assert.Contains("Invoice", text);
        Assert.Contains("INV-2025-000042", text);
        Assert.Contains("2025-03-14", text);
        Assert.Contains("Decent Cloud GmbH", text);
        Assert.Contains("Musterstraße 1", text);
        Assert.Contains("10115 Berlin", text);
        Assert.Contains("VAT ID: DE123456789", text);
        Assert.Contains("IBAN: DE89370400440532013000", text);
        Assert.Contains("Bill to", text);
        Assert.Contains("Acme Hosting SARL", text);
        Assert.Contains("12 rue de la Paix", text);
        Assert.Contains("75002 Paris", text);
        Assert.Contains("VAT ID: FR40303265045", text);
        Assert.Contains("GPU node gpu-a100-80g (eu-central)", text);
        Assert.Contains("2025-03-01 \u2013 2025-03-31", text);
        Assert.Contains("720", text);
        Assert.Contains("Net 1,234.56 EUR", text);
        Assert.Contains("VAT 19.00 % 234.57 EUR", text);
        Assert.Contains("Gross 1,469.13 EUR", text);
        Assert.Contains("Paid", text);
        Assert.Contains("Payment: card (Stripe), reference pi_3PqRsT2eZvKYlo2C1aBcDeFg", text);
        Assert.Contains("ctr_01HZX3J8Q4W5E6R7T8Y9U0", text);
        Assert.Contains("Thank you for choosing Decent Cloud.", text);
        Assert.DoesNotContain("Refunded", text);
        Assert.DoesNotContain("-", Amounts(text));
    }

    [Fact]
    public void An_invoice_pdf_is_one_small_a4_page_titled_with_its_number()
    {
        var bytes = InvoicePdf.Render(Invoice());

        Assert.Equal("%PDF"u8.ToArray(), bytes[..4]);
        Assert.True(bytes.Length < 50 * 1024, $"the PDF has {bytes.Length} bytes");
        using var pdf = PdfDocument.Open(bytes);
        Assert.Equal(1, pdf.NumberOfPages);
        var page = pdf.GetPage(1);
        Assert.Equal(A4Width, page.MediaBox.Bounds.Width, 0.5);
        Assert.Equal(A4Height, page.MediaBox.Bounds.Height, 0.5);
        Assert.Equal("INV-2025-000042", pdf.Information.Title);
        Assert.Equal("Decent Cloud", pdf.Information.Producer);
    }

    [Fact]
    public void The_text_is_drawn_in_the_embedded_dejavu_font()
    {
        using var pdf = PdfDocument.Open(InvoicePdf.Render(Invoice()));

        var letters = pdf.GetPage(1).Letters.Where(letter => !string.IsNullOrWhiteSpace(letter.Value)).ToList();
        Assert.NotEmpty(letters);
        Assert.All(letters, letter => Assert.Contains("DejaVu", letter.FontName, StringComparison.Ordinal));
        Assert.Contains(letters, letter => letter.FontName?.Contains("Bold", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void A_reverse_charge_invoice_prints_the_reverse_charge_note_and_no_vat()
    {
        var document = Invoice() with
        {
            Treatment = VatTreatment.ReverseCharge,
            VatRatePercent = 0m,
            VatMinor = 0,
            GrossMinor = 123456,
            Notes = VatNotes.For(VatTreatment.ReverseCharge),
        };

        var text = TextOf(InvoicePdf.Render(document));

        Assert.Contains(Normalised(VatNotes.ReverseCharge), text);
        Assert.Contains("VAT 0.00 % 0.00 EUR", text);
        Assert.Contains("Gross 1,234.56 EUR", text);
    }

    [Fact]
    public void An_invoice_from_a_seller_without_vat_id_says_vat_is_not_applicable()
    {
        var document = Invoice() with
        {
            Seller = Seller with { VatId = null },
            SellerIban = null,
            Treatment = VatTreatment.NotApplicable,
            VatRatePercent = 0m,
            VatMinor = 0,
            GrossMinor = 123456,
            Notes = VatNotes.For(VatTreatment.NotApplicable),
        };

        var text = TextOf(InvoicePdf.Render(document));

        Assert.Contains(Normalised(VatNotes.NotApplicable), text);
        Assert.DoesNotContain("DE123456789", text);
        Assert.DoesNotContain("IBAN", text);
        Assert.Contains("VAT ID: FR40303265045", text);
    }

    [Fact]
    public void A_credit_note_prints_its_title_the_invoice_it_refers_to_negative_amounts_and_refunded()
    {
        var document = Invoice() with
        {
            Kind = InvoiceKind.CreditNote,
            Number = "CN-2025-000007",
            RefersTo = "INV-2025-000042",
            NetMinor = 10000,
            VatMinor = 1900,
            GrossMinor = 11900,
        };

        var text = TextOf(InvoicePdf.Render(document));

        Assert.Contains("Credit note", text);
        Assert.Contains("CN-2025-000007", text);
        Assert.Contains("Refers to invoice INV-2025-000042", text);
        Assert.Contains("Net -100.00 EUR", text);
        Assert.Contains("VAT 19.00 % -19.00 EUR", text);
        Assert.Contains("Gross -119.00 EUR", text);
        Assert.Contains("Refunded", text);
        Assert.DoesNotContain("Paid", text);
    }

    [Fact]
    public void A_very_long_buyer_name_and_address_stay_within_the_page()
    {
        var longName = string.Join(' ', Enumerable.Repeat("Internationale Rechenzentrumsbetriebsgesellschaft", 8));
        var document = Invoice() with
        {
            Buyer = Buyer with
            {
                Name = longName,
                Line1 = string.Concat(Enumerable.Repeat("Hauptstraßenverlängerungsweg", 12)),
                Line2 = string.Join(' ', Enumerable.Repeat("Gebäude C, Aufgang 4, Etage 12,", 10)),
                City = string.Concat(Enumerable.Repeat("Llanfairpwllgwyngyll", 6)),
            },
            Description = string.Join(' ', Enumerable.Repeat("Dedicated bare-metal server with 2 TB NVMe", 10)),
            PaymentReference = new string('x', 300),
            NetMinor = long.MaxValue / 2,
            VatMinor = long.MaxValue / 4,
            GrossMinor = long.MaxValue,
        };

        using var pdf = PdfDocument.Open(InvoicePdf.Render(document));

        Assert.Equal(1, pdf.NumberOfPages);
        var words = pdf.GetPage(1).GetWords().ToList();
        Assert.All(words, InsideThePage);
        Assert.Contains(words, word => word.Text == "Internationale");
        Assert.Contains(words, word => word.Text == "Rechenzentrumsbetriebsgesellschaft");
        Assert.Contains(words, word => word.Text.EndsWith('\u2026'));
        Assert.Contains("Gross 92,233,720,368,547,758.07 EUR", TextOf(pdf));
    }

    [Fact]
    public void Long_notes_wrap_to_the_page_width_each_on_its_own_line()
    {
        var longNote = string.Join(' ', Enumerable.Repeat("This service is provided under the Decent Cloud terms of service.", 12));
        var document = Invoice() with { Notes = [VatNotes.ReverseCharge, longNote, "Short note."] };

        using var pdf = PdfDocument.Open(InvoicePdf.Render(document));

        var page = pdf.GetPage(1);
        var words = page.GetWords().ToList();
        Assert.All(words, InsideThePage);
        var text = Normalised(string.Join(' ', words.Select(word => word.Text)));
        Assert.Contains(Normalised(VatNotes.ReverseCharge), text);
        Assert.Contains(Normalised(longNote), text);
        var reverseCharge = words.First(word => word.Text == "Reverse");
        var shortNote = words.First(word => word.Text == "Short");
        Assert.True(shortNote.BoundingBox.Bottom < reverseCharge.BoundingBox.Bottom - 50, "the notes follow one another down the page");
        Assert.True(shortNote.BoundingBox.Left < 60, "each note starts a line of its own");
    }

    [Fact]
    public void Notes_too_long_for_one_page_continue_on_the_next_rather_than_being_cut()
    {
        var notes = Enumerable.Range(1, 60).Select(n => $"Note {n}: {string.Join(' ', Enumerable.Repeat("lorem ipsum dolor", 8))}").ToList();

        using var pdf = PdfDocument.Open(InvoicePdf.Render(Invoice() with { Notes = notes }));

        Assert.True(pdf.NumberOfPages > 1);
        Assert.All(pdf.GetPages().SelectMany(page => page.GetWords()), InsideThePage);
        var text = TextOf(pdf);
        Assert.Contains("Invoice INV-2025-000042, continued", text);
        Assert.Contains($"INV-2025-000042 \u00b7 Page {pdf.NumberOfPages}", text);

        // Without each page's footer and the "continued" line atop the next, a note split by a page break reads whole.
        var body = Normalised(string.Join(' ', pdf.GetPages()
            .SelectMany(page => page.GetWords().Where(word => word.BoundingBox.Bottom > 60 && (page.Number == 1 || word.BoundingBox.Top < A4Height - 70)))
            .Select(word => word.Text)));
        Assert.All(notes, note => Assert.Contains(note, body));
    }

    [Fact]
    public void Rendering_the_same_record_again_gives_the_same_bytes()
    {
        Assert.Equal(InvoicePdf.Render(Invoice()), InvoicePdf.Render(Invoice()));
    }

    [Fact]
    public void A_failed_render_names_the_document_and_keeps_the_cause()
    {
        var broken = Invoice() with { Description = null! };

        var failure = Assert.Throws<InvoiceRenderException>(() => InvoicePdf.Render(broken));

        Assert.Equal("INV-2025-000042", failure.Number);
        Assert.Contains("INV-2025-000042", failure.Message);
        Assert.NotNull(failure.InnerException);
    }

    [Fact]
    public async Task Invoices_render_in_parallel()
    {
        var renders = await Task.WhenAll(Enumerable.Range(1, 8).Select(n => Task.Run(() =>
            InvoicePdf.Render(Invoice() with { Number = $"INV-2025-{n:D6}" }))));

        for (var n = 1; n <= renders.Length; n++)
        {
            Assert.Contains($"INV-2025-{n:D6}", TextOf(renders[n - 1]));
        }
    }

    [Fact]
    public void A_sample_invoice_is_written_and_rendered_to_png_where_pdftoppm_is_available()
    {
        // Into the test run's results (TestResults/invoice-samples), for a person to look at.
        var folder = Path.Combine(DecentCloud.Testing.RepositoryRoot.Path, "TestResults", "invoice-samples");
        Directory.CreateDirectory(folder);
        var pdfPath = Path.Combine(folder, "INV-sample.pdf");
        File.WriteAllBytes(pdfPath, InvoicePdf.Render(Invoice() with
        {
            // A coherent case: a German business buyer, charged German VAT.
            Buyer = new InvoiceParty("Beta Rechenzentrum GmbH", "Invalidenstraße 116", "Haus 2", "Berlin", "10115", "DE", "DE129273398"),
            Treatment = VatTreatment.Standard,
            Notes = ["Thank you for choosing Decent Cloud. Questions about this invoice: billing@decent-cloud.org."],
        }));
        Assert.True(new FileInfo(pdfPath).Length > 0);

        // pdftoppm (poppler-utils) is on developer machines, not necessarily on CI.
        if (FindOnPath("pdftoppm") is not { } pdftoppm)
        {
            return;
        }

        var pngBase = Path.Combine(folder, "INV-sample");
        using var process = Process.Start(new ProcessStartInfo(pdftoppm, ["-png", "-r", "80", "-singlefile", pdfPath, pngBase])
        {
            RedirectStandardError = true,
        })!;
        var errors = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), "pdftoppm did not finish");
        Assert.True(process.ExitCode == 0, errors);
        var png = new FileInfo(pngBase + ".png");
        Assert.True(png.Exists && png.Length > 0, $"{png.FullName} is missing or empty");
    }

    private static string TextOf(byte[] pdfBytes)
    {
        using var pdf = PdfDocument.Open(pdfBytes);
        return TextOf(pdf);
    }

    private static string TextOf(PdfDocument pdf) =>
        Normalised(string.Join(' ', pdf.GetPages().SelectMany(page => page.GetWords()).Select(word => word.Text)));

    private static string Normalised(string text) => Whitespace().Replace(text, " ").Trim();

    private static string Amounts(string text) => string.Join(' ', AmountPattern().Matches(text).Select(match => match.Value));

    private static void InsideThePage(Word word)
    {
        var box = word.BoundingBox;
        Assert.True(
            box.Left >= 0 && box.Bottom >= 0 && box.Right <= A4Width && box.Top <= A4Height,
            $"\"{word.Text}\" lies outside the page at ({box.Left:F1}, {box.Bottom:F1})–({box.Right:F1}, {box.Top:F1})");
    }

    private static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, tool))
            .FirstOrDefault(File.Exists);

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"-?[\d,]+\.\d{2} EUR")]
    private static partial Regex AmountPattern();
}
