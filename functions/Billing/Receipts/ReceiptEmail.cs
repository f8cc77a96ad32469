using System.Globalization;
using System.Net.Mail;
using System.Text.Encodings.Web;

namespace DecentCloud.Functions.Billing.Receipts;

/// <summary>
/// The receipt sent after a successful payment, with the invoice PDF attached (docs/billing.md, "Receipts").
/// </summary>
/// <param name="To">The buyer's invoice email address.</param>
/// <param name="ToName">The buyer's name as the mail client shows it; null for none.</param>
/// <param name="PaymentKey">The payment this receipt belongs to; travels with the mail as a SendGrid custom arg, so a sent mail can be traced.</param>
public sealed record ReceiptEmail(
    string To,
    string? ToName,
    string Subject,
    string PlainText,
    string Html,
    string AttachmentFileName,
    byte[] AttachmentPdf,
    string PaymentKey)
{
    /// <summary>Writes the receipt for one paid invoice.</summary>
    /// <param name="invoiceNumber">As printed on the invoice (<c>INV-2025-000042</c>); also names the attachment.</param>
    /// <param name="buyerName">The buyer's legal name from their billing settings; empty for none.</param>
    /// <param name="to">The buyer's invoice email address.</param>
    /// <param name="grossAmount">The amount paid, already formatted with its currency (<c>EUR 119.00</c>).</param>
    /// <param name="issueDate">The invoice's issue date.</param>
    /// <param name="pdf">The invoice PDF.</param>
    public static ReceiptEmail For(
        string invoiceNumber,
        string contractId,
        string buyerName,
        string to,
        string grossAmount,
        DateOnly issueDate,
        byte[] pdf,
        string paymentKey)
    {
        Validate(invoiceNumber, contractId, to, grossAmount, pdf, paymentKey);
        var name = string.IsNullOrWhiteSpace(buyerName) ? null : buyerName.Trim();
        var date = issueDate.ToString("d MMMM yyyy", CultureInfo.InvariantCulture);
        var subject = $"Your receipt: invoice {invoiceNumber}";

        var text = $"""
            {(name is null ? "Hello," : $"Hello {name},")}

            Thank you for your payment of {grossAmount}.

            Invoice {invoiceNumber}, issued {date}, is attached as a PDF. It covers contract {contractId}.
            Please keep it for your records; there is nothing else you need to do.

            Decent Cloud
            """;

        var html = HtmlEncoder.Default;
        var body = Page(subject, name,
            $"Thank you for your payment of <strong>{html.Encode(grossAmount)}</strong>.",
            $"""
            Invoice <strong>{html.Encode(invoiceNumber)}</strong>, issued {html.Encode(date)}, is attached as a PDF. It covers contract <code>{html.Encode(contractId)}</code>.<br>
            Please keep it for your records; there is nothing else you need to do.
            """);

        return new ReceiptEmail(to.Trim(), name, subject, text, body, $"{invoiceNumber}.pdf", pdf, paymentKey);
    }

    /// <summary>Writes the email that sends the buyer the credit note for a refund, with the note's PDF attached.</summary>
    /// <param name="creditNoteNumber">As printed on the note (<c>CN-2025-000007</c>); also names the attachment.</param>
    /// <param name="invoiceNumber">The invoice the note corrects.</param>
    /// <param name="refundedAmount">The amount refunded, already formatted with its currency.</param>
    /// <param name="documentKey">The credit note's key; travels with the mail as a SendGrid custom arg.</param>
    public static ReceiptEmail ForCreditNote(
        string creditNoteNumber,
        string invoiceNumber,
        string contractId,
        string buyerName,
        string to,
        string refundedAmount,
        DateOnly issueDate,
        byte[] pdf,
        string documentKey)
    {
        Validate(creditNoteNumber, contractId, to, refundedAmount, pdf, documentKey);
        ArgumentException.ThrowIfNullOrWhiteSpace(invoiceNumber);
        var name = string.IsNullOrWhiteSpace(buyerName) ? null : buyerName.Trim();
        var date = issueDate.ToString("d MMMM yyyy", CultureInfo.InvariantCulture);
        var subject = $"Your refund: credit note {creditNoteNumber}";

        var text = $"""
            {(name is null ? "Hello," : $"Hello {name},")}

            We have refunded {refundedAmount} to you. It reaches your account through the payment method you paid with.

            Credit note {creditNoteNumber}, issued {date}, is attached as a PDF. It corrects invoice {invoiceNumber} of contract {contractId}.
            Please keep it with that invoice for your records.

            Decent Cloud
            """;

        var html = HtmlEncoder.Default;
        var body = Page(subject, name,
            $"We have refunded <strong>{html.Encode(refundedAmount)}</strong> to you. It reaches your account through the payment method you paid with.",
            $"""
            Credit note <strong>{html.Encode(creditNoteNumber)}</strong>, issued {html.Encode(date)}, is attached as a PDF. It corrects invoice {html.Encode(invoiceNumber)} of contract <code>{html.Encode(contractId)}</code>.<br>
            Please keep it with that invoice for your records.
            """);

        return new ReceiptEmail(to.Trim(), name, subject, text, body, $"{creditNoteNumber}.pdf", pdf, documentKey);
    }

    /// <summary>The HTML page around the paragraphs (already encoded): title, greeting, signature.</summary>
    private static string Page(string subject, string? name, params string[] paragraphs)
    {
        var html = HtmlEncoder.Default;
        var greeting = name is null ? "Hello," : $"Hello {html.Encode(name)},";
        return $"""
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><title>{html.Encode(subject)}</title></head>
            <body style="font-family: sans-serif; line-height: 1.5;">
            <p>{greeting}</p>
            {string.Join("\n", paragraphs.Select(p => $"<p>{p}</p>"))}
            <p>Decent Cloud</p>
            </body>
            </html>
            """;
    }

    private static void Validate(string number, string contractId, string to, string amount, byte[] pdf, string paymentKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(number);
        ArgumentException.ThrowIfNullOrWhiteSpace(contractId);
        ArgumentException.ThrowIfNullOrWhiteSpace(to);
        ArgumentException.ThrowIfNullOrWhiteSpace(amount);
        ArgumentException.ThrowIfNullOrWhiteSpace(paymentKey);
        ArgumentNullException.ThrowIfNull(pdf);
        if (pdf.Length == 0)
        {
            throw new ArgumentException("The PDF is empty.", nameof(pdf));
        }

        if (!MailAddress.TryCreate(to, out _))
        {
            // The address itself stays out of the message: exceptions end up in logs.
            throw new ArgumentException($"The email for {paymentKey} has no valid recipient address.", nameof(to));
        }
    }
}
