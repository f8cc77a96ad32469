using DecentCloud.Functions.Marketplace.Accounts;
using DecentCloud.Functions.Marketplace.Contracts;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;

namespace DecentCloud.Functions.Billing.StripeIntegration;

/// <summary>What the checkout endpoint asks of Stripe: a customer carrying the renter's billing settings, and a Checkout Session.</summary>
public sealed class StripeGateway
{
    private readonly StripeClient client;
    private readonly StripeOptions options;

    public StripeGateway(IOptions<StripeOptions> options, IHttpClientFactory http)
    {
        this.options = options.Value;
        // Stripe.net retries connection errors, 409 and 5xx itself, with the same idempotency key on every attempt.
        var transport = new SystemNetHttpClient(http.CreateClient(nameof(StripeGateway)), this.options.MaxNetworkRetries, enableTelemetry: false);
        client = new StripeClient(this.options.SecretKey, httpClient: transport, apiBase: this.options.ApiBase.ToString().TrimEnd('/'));
    }

    /// <summary>
    /// Creates the renter's Stripe customer from their billing settings, or brings an existing one up to date, so that
    /// Checkout opens with name, address and VAT ID filled in. The idempotency key makes a retried create return the
    /// same customer.
    /// </summary>
    public async Task<string> EnsureCustomerAsync(BillingEntity billing, string? existingCustomerId, string? email, CancellationToken cancellationToken)
    {
        var address = new AddressOptions
        {
            Line1 = billing.Line1,
            Line2 = billing.Line2,
            City = billing.City,
            PostalCode = billing.PostalCode,
            Country = billing.Country,
        };
        var service = new CustomerService(client);
        try
        {
            if (existingCustomerId is not null)
            {
                var updated = await service.UpdateAsync(existingCustomerId, new CustomerUpdateOptions { Name = billing.LegalName, Email = email, Address = address }, cancellationToken: cancellationToken);
                return updated.Id;
            }

            var create = new CustomerCreateOptions
            {
                Name = billing.LegalName,
                Email = email,
                Address = address,
                Metadata = new Dictionary<string, string> { ["public_key"] = billing.PartitionKey },
                TaxIdData = billing.VatId is { } vatId ? [new CustomerTaxIdDataOptions { Type = "eu_vat", Value = vatId }] : null,
            };
            var created = await service.CreateAsync(create, new RequestOptions { IdempotencyKey = $"customer-{billing.PartitionKey}-{billing.UpdatedAt.UtcTicks}" }, cancellationToken);
            return created.Id;
        }
        catch (StripeException ex)
        {
            throw new StripeCallException($"creating or updating the Stripe customer of {billing.PartitionKey}", ex);
        }
    }

    /// <summary>
    /// The session with its tax breakdown: webhook events carry the session without <c>total_details.breakdown</c>
    /// (an expandable field), and the breakdown holds the rate and the taxability reason (reverse charge).
    /// </summary>
    public async Task<Session> SessionWithTaxAsync(string sessionId, CancellationToken cancellationToken)
    {
        try
        {
            return await new SessionService(client).GetAsync(sessionId, new SessionGetOptions { Expand = ["total_details.breakdown"] }, cancellationToken: cancellationToken);
        }
        catch (StripeException ex)
        {
            throw new StripeCallException($"reading checkout session {sessionId} with its tax breakdown", ex);
        }
    }

    /// <summary>
    /// Refunds <paramref name="amountMinor"/> of the payment intent. The idempotency key is the payment's refund (one
    /// per payment): a retry after a crash gets the same refund from Stripe, never a second one.
    /// </summary>
    public async Task<Refund> RefundAsync(string paymentIntentId, long amountMinor, string contractId, string sessionId, string reason, CancellationToken cancellationToken)
    {
        try
        {
            return await new RefundService(client).CreateAsync(
                new RefundCreateOptions
                {
                    PaymentIntent = paymentIntentId,
                    Amount = amountMinor,
                    Metadata = new Dictionary<string, string> { ["contract_id"] = contractId, ["session_id"] = sessionId, ["reason"] = reason },
                },
                new RequestOptions { IdempotencyKey = $"refund-{sessionId}" },
                cancellationToken);
        }
        catch (StripeException ex)
        {
            throw new StripeCallException($"refunding {amountMinor} of payment intent {paymentIntentId} (contract {contractId}, session {sessionId})", ex);
        }
    }

    /// <summary>
    /// A Checkout Session in payment mode for the contract's price (docs/billing.md, "Checkout"): automatic tax, tax ID
    /// collection, required billing address, an invoice, and the contract id in <c>client_reference_id</c> and
    /// metadata. <paramref name="attempt"/> is part of the idempotency key: the same attempt always gets the same session.
    /// </summary>
    public async Task<Session> CreateCheckoutSessionAsync(ContractEntity contract, string offeringName, string? customerId, string? email, int attempt, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string> { ["contract_id"] = contract.PartitionKey };
        var create = new SessionCreateOptions
        {
            Mode = "payment",
            ClientReferenceId = contract.PartitionKey,
            Metadata = metadata,
            SuccessUrl = options.SuccessUrl.Replace(StripeOptions.ContractIdPlaceholder, contract.PartitionKey, StringComparison.Ordinal),
            CancelUrl = options.CancelUrl.Replace(StripeOptions.ContractIdPlaceholder, contract.PartitionKey, StringComparison.Ordinal),
            AutomaticTax = new SessionAutomaticTaxOptions { Enabled = true },
            TaxIdCollection = new SessionTaxIdCollectionOptions { Enabled = true },
            BillingAddressCollection = "required",
            InvoiceCreation = new SessionInvoiceCreationOptions { Enabled = true, InvoiceData = new SessionInvoiceCreationInvoiceDataOptions { Metadata = metadata } },
            // The payment intent carries the contract too, so charges, refunds and disputes lead back to it.
            PaymentIntentData = new SessionPaymentIntentDataOptions { Metadata = metadata },
            LineItems =
            [
                new SessionLineItemOptions
                {
                    Quantity = 1,
                    PriceData = new SessionLineItemPriceDataOptions
                    {
                        Currency = contract.Currency.ToLowerInvariant(),
                        UnitAmount = contract.PriceMinor,
                        // The contract price is net: Stripe Tax adds the VAT on top.
                        TaxBehavior = "exclusive",
                        ProductData = new SessionLineItemPriceDataProductDataOptions
                        {
                            Name = $"{offeringName} ({contract.Hours} hours)",
                            Metadata = new Dictionary<string, string> { ["offering_id"] = contract.OfferingId, ["provider"] = contract.ProviderKey },
                        },
                    },
                },
            ],
        };
        if (customerId is not null)
        {
            create.Customer = customerId;
            // Saves what the renter types in Checkout on the customer; Stripe needs name=auto to save a business name with a tax ID.
            create.CustomerUpdate = new SessionCustomerUpdateOptions { Address = "auto", Name = "auto" };
        }
        else
        {
            create.CustomerEmail = email;
            // Without a customer, a tax ID entered in Checkout is kept only on a customer Checkout creates.
            create.CustomerCreation = "always";
        }

        try
        {
            return await new SessionService(client).CreateAsync(create, new RequestOptions { IdempotencyKey = $"checkout-{contract.PartitionKey}-{attempt}" }, cancellationToken);
        }
        catch (StripeException ex)
        {
            throw new StripeCallException($"creating checkout session attempt {attempt} for contract {contract.PartitionKey}", ex);
        }
    }
}

/// <summary>A Stripe API call failed; the inner <see cref="StripeException"/> has Stripe's error.</summary>
public sealed class StripeCallException(string doing, StripeException inner) : Exception($"{doing}: Stripe answered {(int)inner.HttpStatusCode} {inner.StripeError?.Type} {inner.StripeError?.Code}".TrimEnd(), inner)
{
    public int Status => (int)((StripeException)InnerException!).HttpStatusCode;
}
