using SkiaSharp;

namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>
/// Renders an invoice or credit note as an A4 PDF: text drawn with the embedded DejaVu font (subset into the file),
/// so the PDF reads the same everywhere and its text can be extracted and searched.
/// </summary>
public static class InvoicePdf
{
    private const string Producer = "Decent Cloud";

    /// <summary>The PDF bytes of <paramref name="document"/>; throws <see cref="InvoiceRenderException"/> if Skia fails.</summary>
    public static byte[] Render(InvoiceDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        try
        {
            using var output = new MemoryStream();
            using (var pdf = SKDocument.CreatePdf(output, Metadata(document)))
            {
                if (pdf is null)
                {
                    throw new InvoiceRenderException(document.Number, null);
                }

                using var sheet = new InvoiceSheet(document);
                sheet.Render(pdf);
                pdf.Close();
            }

            return output.ToArray();
        }
        catch (Exception e) when (e is not InvoiceRenderException)
        {
            throw new InvoiceRenderException(document.Number, e);
        }
    }

    private static SKDocumentPdfMetadata Metadata(InvoiceDocument document) => SKDocumentPdfMetadata.Default with
    {
        Title = document.Number,
        Subject = $"{InvoiceSheet.Title(document.Kind)} {document.Number}",
        Author = Producer,
        Creator = Producer,
        Producer = Producer,
        // The issue date rather than the clock: the PDF is rendered again from the stored record, and says the same.
        Creation = document.IssuedAt.UtcDateTime,
        Modified = document.IssuedAt.UtcDateTime,
    };
}
