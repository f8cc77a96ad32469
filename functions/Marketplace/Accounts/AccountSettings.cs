using System.Net.Mail;
using System.Text.RegularExpressions;

namespace DecentCloud.Functions.Marketplace.Accounts;

/// <summary>The body of <c>PUT /api/v1/accounts/{pubkey}</c>. There is no <c>emailVerified</c>: the user cannot set it.</summary>
public sealed record AccountSettings(string? ContactEmail)
{
    /// <summary>Field errors keyed by camelCase field name; empty when acceptable.</summary>
    public static Dictionary<string, string[]> Validate(AccountSettings? settings)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (settings is null)
        {
            errors["body"] = ["A JSON account is required."];
        }
        else if (string.IsNullOrWhiteSpace(settings.ContactEmail))
        {
            errors["contactEmail"] = ["Contact email is required."];
        }
        else if (!Email.IsValid(settings.ContactEmail.Trim()))
        {
            errors["contactEmail"] = ["Contact email is not a valid email address."];
        }

        return errors;
    }
}

/// <summary>An account as the API shows it.</summary>
/// <param name="EmailVerified">False until the notification feature verifies the address.</param>
public sealed record AccountView(string PublicKey, string ContactEmail, bool EmailVerified, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>The body of <c>PUT /api/v1/accounts/{pubkey}/billing</c>; an update replaces all of it.</summary>
/// <param name="Country">ISO 3166-1 alpha-2, upper case.</param>
/// <param name="VatId">Two-letter prefix and 2–13 letters or digits; checked for form only (VIES is a later issue).</param>
public sealed record BillingSettings(
    string? LegalName,
    string? Line1,
    string? Line2,
    string? City,
    string? PostalCode,
    string? Country,
    string? VatId,
    string? InvoiceEmail)
{
    public const int MaxLength = 200;

    /// <summary>Field errors keyed by camelCase field name; empty when acceptable.</summary>
    public static Dictionary<string, string[]> Validate(BillingSettings? settings)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (settings is null)
        {
            errors["body"] = ["JSON billing settings are required."];
            return errors;
        }

        Required(errors, "legalName", "Legal name", settings.LegalName);
        Required(errors, "line1", "Address line 1", settings.Line1);
        if (settings.Line2?.Trim().Length > MaxLength)
        {
            errors["line2"] = [$"Address line 2 is at most {MaxLength} characters."];
        }

        Required(errors, "city", "City", settings.City);
        Required(errors, "postalCode", "Postal code", settings.PostalCode);

        if (string.IsNullOrWhiteSpace(settings.Country))
        {
            errors["country"] = ["Country is required."];
        }
        else if (!Countries.IsAlpha2(settings.Country.Trim()))
        {
            errors["country"] = ["Country must be an ISO 3166-1 alpha-2 code in upper case, such as DE."];
        }

        if (!string.IsNullOrWhiteSpace(settings.VatId)
            && !Regex.IsMatch(settings.VatId.Trim(), "^[A-Z]{2}[A-Za-z0-9]{2,13}$", RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            errors["vatId"] = ["VAT ID must be a two-letter upper-case prefix followed by 2 to 13 letters or digits."];
        }

        if (!string.IsNullOrWhiteSpace(settings.InvoiceEmail) && !Email.IsValid(settings.InvoiceEmail.Trim()))
        {
            errors["invoiceEmail"] = ["Invoice email is not a valid email address."];
        }

        return errors;
    }

    /// <summary>The stored form: trimmed, blanks as null. Call only on valid settings.</summary>
    public BillingSettings Normalized() => new(
        LegalName!.Trim(), Line1!.Trim(), Blank(Line2), City!.Trim(), PostalCode!.Trim(), Country!.Trim(), Blank(VatId), Blank(InvoiceEmail));

    private static void Required(Dictionary<string, string[]> errors, string field, string label, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors[field] = [$"{label} is required."];
        }
        else if (value.Trim().Length > MaxLength)
        {
            errors[field] = [$"{label} is at most {MaxLength} characters."];
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>Billing settings as the API shows them.</summary>
public sealed record BillingView(
    string PublicKey,
    string LegalName,
    string Line1,
    string? Line2,
    string City,
    string PostalCode,
    string Country,
    string? VatId,
    string? InvoiceEmail,
    DateTimeOffset UpdatedAt);

/// <summary>The body of <c>POST /api/v1/accounts/{pubkey}/ssh-keys</c>.</summary>
/// <param name="PublicKey">One OpenSSH public key line: <c>ssh-ed25519 AAAA... comment</c>.</param>
public sealed record SshKeyRequest(string? PublicKey);

/// <summary>An SSH key as the API shows it.</summary>
/// <param name="Fingerprint">As <c>ssh-keygen -lf</c> prints it: <c>SHA256:</c> and unpadded base64.</param>
public sealed record SshKeyView(string Fingerprint, string KeyType, string PublicKey, string? Comment, DateTimeOffset CreatedAt);

internal static class Email
{
    public static bool IsValid(string value) =>
        value.Length <= 254
        && MailAddress.TryCreate(value, out var address)
        && string.Equals(address.Address, value, StringComparison.Ordinal)
        && Regex.IsMatch(value, @"^[^@\s]+@[^@\s]+\.[^@\s]+$", RegexOptions.None, TimeSpan.FromSeconds(1));
}
