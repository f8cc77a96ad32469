namespace DecentCloud.Functions.Billing.Invoices;

/// <summary>Skia could not render an invoice or credit note as PDF; the message names the document's number.</summary>
public sealed class InvoiceRenderException(string number, Exception? innerException)
    : Exception($"Could not render {number} as PDF.", innerException)
{
    /// <summary>The number of the invoice or credit note that was being rendered.</summary>
    public string Number { get; } = number;
}
