using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Billing;

/// <summary>Stripe and Checkout settings. The secrets are required: the app cannot take or verify a payment without them.</summary>
public sealed class StripeOptions : IValidatableObject
{
    /// <summary>The secret API key (<c>sk_live_…</c>, <c>sk_test_…</c>, or a restricted <c>rk_…</c> key). Secret.</summary>
    [ConfigurationKeyName("STRIPE_SECRET_KEY")]
    [Required]
    public string SecretKey { get; set; } = "";

    /// <summary>The webhook endpoint's signing secret (<c>whsec_…</c>). Secret.</summary>
    [ConfigurationKeyName("STRIPE_WEBHOOK_SECRET")]
    [Required]
    public string WebhookSecret { get; set; } = "";

    /// <summary>Stripe's API address; only tests and local set-ups change it.</summary>
    [ConfigurationKeyName("STRIPE_API_BASE")]
    public Uri ApiBase { get; set; } = new("https://api.stripe.com");

    /// <summary>How far a webhook's signed timestamp may be from now, in seconds (Stripe.net's default is 300).</summary>
    [ConfigurationKeyName("STRIPE_WEBHOOK_TOLERANCE_SECONDS")]
    [Range(1, 3600)]
    public int WebhookToleranceSeconds { get; set; } = 300;

    /// <summary>Retries of one Stripe call on connection errors, 409 and 5xx (Stripe.net's own, same idempotency key).</summary>
    [ConfigurationKeyName("STRIPE_MAX_NETWORK_RETRIES")]
    [Range(0, 5)]
    public int MaxNetworkRetries { get; set; } = 2;

    /// <summary>Where Checkout sends the renter after paying; <c>{CONTRACT_ID}</c> is replaced by the contract id.</summary>
    [ConfigurationKeyName("CHECKOUT_SUCCESS_URL")]
    [Required]
    public string SuccessUrl { get; set; } = "";

    /// <summary>Where Checkout sends the renter who leaves without paying; <c>{CONTRACT_ID}</c> as above.</summary>
    [ConfigurationKeyName("CHECKOUT_CANCEL_URL")]
    [Required]
    public string CancelUrl { get; set; } = "";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!ApiBase.IsAbsoluteUri || ApiBase.Scheme is not ("http" or "https"))
        {
            yield return new ValidationResult("must be an absolute http or https URL.", [nameof(ApiBase)]);
        }

        foreach (var (name, url) in new[] { (nameof(SuccessUrl), SuccessUrl), (nameof(CancelUrl), CancelUrl) })
        {
            if (url.Length > 0 && (!Uri.TryCreate(url.Replace(ContractIdPlaceholder, "x", StringComparison.Ordinal), UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")))
            {
                yield return new ValidationResult("must be an absolute http or https URL.", [name]);
            }
        }
    }

    public const string ContractIdPlaceholder = "{CONTRACT_ID}";
}

/// <summary>
/// The seller printed on every invoice (docs/billing.md, "Invoices"). Not validated at start-up on purpose: a missing name, address or
/// country stops invoices from being issued (payments are still recorded, and issuing is retried), not the app.
/// </summary>
public sealed class SellerOptions
{
    [ConfigurationKeyName("INVOICE_SELLER_NAME")]
    public string? Name { get; set; }

    /// <summary>Lines separated by new lines or <c>;</c>: street first, the postal code and city last.</summary>
    [ConfigurationKeyName("INVOICE_SELLER_ADDRESS")]
    public string? Address { get; set; }

    /// <summary>ISO 3166-1 alpha-2: the country whose VAT rules apply to the seller.</summary>
    [ConfigurationKeyName("INVOICE_SELLER_COUNTRY")]
    public string? Country { get; set; }

    /// <summary>Absent when the seller is not registered for VAT: invoices then say "VAT not applicable".</summary>
    [ConfigurationKeyName("INVOICE_SELLER_VAT_ID")]
    public string? VatId { get; set; }

    [ConfigurationKeyName("INVOICE_SELLER_IBAN")]
    public string? Iban { get; set; }

    /// <summary>The settings that are missing for invoices to be issued; empty when none is.</summary>
    public IReadOnlyList<string> Missing()
    {
        var missing = new List<string>();
        if (string.IsNullOrWhiteSpace(Name))
        {
            missing.Add("INVOICE_SELLER_NAME");
        }

        if (AddressLines().Count == 0)
        {
            missing.Add("INVOICE_SELLER_ADDRESS");
        }

        if (string.IsNullOrWhiteSpace(Country) || !Marketplace.Accounts.Countries.IsAlpha2(Country.Trim()))
        {
            missing.Add("INVOICE_SELLER_COUNTRY");
        }

        return missing;
    }

    public IReadOnlyList<string> AddressLines() =>
        (Address ?? "").Split(['\n', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
