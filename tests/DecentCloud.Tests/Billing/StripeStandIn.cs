using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DecentCloud.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Billing;

/// <summary>One request the stand-in received, form fields in Stripe's bracket notation (<c>line_items[0][quantity]</c>).</summary>
public sealed record StripeRequest(string Method, string Path, IReadOnlyDictionary<string, string> Form, string? IdempotencyKey, string? StripeVersion, string? Authorization);

/// <summary>
/// A local Stripe API for the customers and Checkout Sessions the app creates, answering as Stripe does (see
/// docs/billing.md, "Stripe's API as the code relies on it"): bearer key, form-encoded bodies, unknown parameters refused, Stripe's own
/// parameter rules, idempotency keys replayed (and refused with other parameters), errors as <c>{"error": {...}}</c>,
/// and the objects of fixtures.json with the request's values filled in. Every request is recorded for the test to check.
/// </summary>
public sealed class StripeStandIn : IAsyncDisposable
{
    public const string ApiKey = "sk_test_standin_0123456789";

    private static readonly HashSet<string> SessionParameters =
    [
        "mode", "success_url", "cancel_url", "client_reference_id", "metadata", "automatic_tax", "tax_id_collection", "billing_address_collection",
        "invoice_creation", "payment_intent_data", "line_items", "customer", "customer_email", "customer_update", "customer_creation", "expires_at", "locale",
    ];

    private static readonly HashSet<string> RefundParameters = ["payment_intent", "charge", "amount", "metadata", "reason"];

    private static readonly string[] AddressFields = ["line1", "line2", "city", "postal_code", "country", "state"];

    private static readonly HashSet<string> CustomerParameters = ["name", "email", "address", "metadata", "tax_id_data", "description", "phone"];

    private readonly WebApplication app;
    private readonly ConcurrentQueue<StripeRequest> requests = new();
    private readonly ConcurrentDictionary<string, (string Fingerprint, int Status, string Body)> idempotent = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> inProgress = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JsonObject> customers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, JsonObject> sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Charged> charges = new(StringComparer.Ordinal);
    private readonly List<JsonObject> events = [];
    private readonly JsonObject fixtures;
    private int failNext;

    private StripeStandIn(WebApplication app, JsonObject fixtures)
    {
        this.app = app;
        this.fixtures = fixtures;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<StripeRequest> Requests => requests.ToArray();

    public IReadOnlyDictionary<string, JsonObject> Sessions => sessions;

    /// <summary>What Stripe holds of one paid payment intent: its single charge, and what was refunded of it.</summary>
    private sealed class Charged(long amount, string currency)
    {
        public long Amount { get; } = amount;

        public string Currency { get; } = currency;

        public long Refunded { get; set; }
    }

    /// <summary>Makes the stand-in hold a paid charge for the payment intent, as Stripe does once a Checkout Session is paid.</summary>
    public void HoldPayment(string paymentIntentId, long amountMinor, string currency = "eur") =>
        charges.TryAdd(paymentIntentId, new Charged(amountMinor, currency));

    /// <summary>A Checkout Session opened for the contract without the app (as a second browser tab would have one).</summary>
    public string OpenSession(string contractId, long unitAmountMinor)
    {
        var (status, session) = CreateSession(new Dictionary<string, string>
        {
            ["mode"] = "payment",
            ["success_url"] = "https://decent-cloud.example/paid",
            ["client_reference_id"] = contractId,
            ["metadata[contract_id]"] = contractId,
            ["line_items[0][quantity]"] = "1",
            ["line_items[0][price_data][currency]"] = "eur",
            ["line_items[0][price_data][unit_amount]"] = unitAmountMinor.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["line_items[0][price_data][product_data][name]"] = "Small VM",
        });
        return status == 200 ? session["id"]!.GetValue<string>() : throw new InvalidOperationException(session.ToJsonString());
    }

    /// <summary>A refund made in the Stripe Dashboard, not by the app.</summary>
    public void RefundInDashboard(string paymentIntentId, long amountMinor)
    {
        var (status, body) = CreateRefund(new Dictionary<string, string> { ["payment_intent"] = paymentIntentId, ["amount"] = amountMinor.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        if (status != 200)
        {
            throw new InvalidOperationException(body.ToJsonString());
        }
    }

    /// <summary>What Stripe has refunded of the payment intent's charge so far.</summary>
    public long RefundedOf(string paymentIntentId) => charges.TryGetValue(paymentIntentId, out var charge) ? charge.Refunded : 0;

    /// <summary>The charge as Stripe sends it in <c>charge.refunded</c> now: its cumulative <c>amount_refunded</c>.</summary>
    public JsonObject RefundedCharge(string paymentIntentId)
    {
        var charge = charges[paymentIntentId];
        lock (charge)
        {
            return StripeEvents.RefundedCharge(paymentIntentId, charge.Amount, charge.Refunded, charge.Currency);
        }
    }

    /// <summary>The next <paramref name="count"/> requests are answered 500 api_error (Stripe.net retries those).</summary>
    public void FailNext(int count) => Volatile.Write(ref failNext, count);

    public static JsonObject Fixtures() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "tests", "DecentCloud.Tests", "Contracts", "stripe", "fixtures.json")))!.AsObject();

    public static async Task<StripeStandIn> StartAsync()
    {
        var app = LoopbackServer.CreateBuilder().Build();
        var standIn = new StripeStandIn(app, Fixtures());
        app.MapPost("/v1/customers", context => standIn.HandleAsync(context, standIn.CreateCustomer));
        app.MapPost("/v1/customers/{id}", context => standIn.HandleAsync(context, form => standIn.UpdateCustomer((string)context.Request.RouteValues["id"]!, form)));
        app.MapPost("/v1/checkout/sessions", context => standIn.HandleAsync(context, standIn.CreateSession));
        app.MapPost("/v1/refunds", context => standIn.HandleAsync(context, standIn.CreateRefund));
        app.MapGet("/v1/events", context => standIn.HandleAsync(context, standIn.ListEvents));
        app.MapGet("/v1/checkout/sessions/{id}", context => standIn.HandleAsync(context, _ => standIn.GetSession((string)context.Request.RouteValues["id"]!, context.Request.Query)));
        app.MapFallback(context => Write(context, 404, Error("invalid_request_error", $"Unrecognized request URL ({context.Request.Method}: {context.Request.Path}).", null)));
        await app.StartAsync();
        standIn.BaseAddress = LoopbackServer.AddressOf(app);
        return standIn;
    }

    /// <summary>
    /// <c>GET /v1/checkout/sessions/{id}</c>: the session as it is now; <c>total_details.breakdown</c> only when expanded,
    /// as Stripe leaves out expandable fields.
    /// </summary>
    private (int, JsonObject) GetSession(string id, IQueryCollection query)
    {
        if (!sessions.TryGetValue(id, out var stored))
        {
            return (404, Error("invalid_request_error", $"No such checkout.session: '{id}'", "id", "resource_missing"));
        }

        var expanded = query.Where(q => q.Key.StartsWith("expand", StringComparison.Ordinal)).SelectMany(q => q.Value).Contains("total_details.breakdown");
        var session = stored.DeepClone().AsObject();
        if (!expanded && session["total_details"] is JsonObject totals)
        {
            totals.Remove("breakdown");
        }

        return (200, session);
    }

    /// <summary>The session as Stripe sends it in <c>checkout.session.completed</c> once paid, with Stripe Tax's figures when <paramref name="taxMinor"/> is given.</summary>
    public JsonObject CompletedSession(string sessionId, long? taxMinor, decimal ratePercent = 19m, string country = "DE", string? vatId = null, string paymentStatus = "paid",
        string taxabilityReason = "standard_rated", string taxExempt = "none", string? businessName = "Beta GmbH")
    {
        var session = sessions[sessionId].DeepClone().AsObject();
        var subtotal = session["amount_subtotal"]!.GetValue<long>();
        session["status"] = "complete";
        session["payment_status"] = paymentStatus;
        session["payment_intent"] = "pi_" + sessionId[^12..];
        session["amount_total"] = subtotal + (taxMinor ?? 0);
        session["automatic_tax"] = new JsonObject { ["enabled"] = true, ["status"] = taxMinor is null ? "failed" : "complete", ["liability"] = null, ["provider"] = "stripe" };
        var rate = fixtures["tax_rate"]!.DeepClone().AsObject();
        rate["percentage"] = ratePercent;
        rate["country"] = country;
        rate["jurisdiction"] = country;
        session["total_details"] = new JsonObject
        {
            ["amount_discount"] = 0,
            ["amount_shipping"] = 0,
            ["amount_tax"] = taxMinor ?? 0,
            ["breakdown"] = taxMinor is null ? null : new JsonObject
            {
                ["discounts"] = new JsonArray(),
                ["taxes"] = new JsonArray(new JsonObject { ["amount"] = taxMinor, ["rate"] = rate, ["taxability_reason"] = taxabilityReason, ["taxable_amount"] = subtotal }),
            },
        };
        session["customer_details"] = new JsonObject
        {
            ["address"] = new JsonObject { ["city"] = "Berlin", ["country"] = country, ["line1"] = "Invalidenstraße 116", ["line2"] = null, ["postal_code"] = "10115", ["state"] = null },
            ["email"] = "billing@beta.example",
            ["name"] = "Bea Buyer",
            ["phone"] = null,
            ["tax_exempt"] = taxExempt,
            ["tax_ids"] = vatId is null ? new JsonArray() : new JsonArray(new JsonObject { ["type"] = "eu_vat", ["value"] = vatId }),
            ["business_name"] = businessName,
            ["individual_name"] = null,
        };

        // Stripe now holds the completed session; the event's copy leaves out the expandable tax breakdown.
        sessions[sessionId] = session.DeepClone().AsObject();
        if (paymentStatus == "paid")
        {
            HoldPayment(session["payment_intent"]!.GetValue<string>(), session["amount_total"]!.GetValue<long>(), session["currency"]!.GetValue<string>());
        }

        ((JsonObject)session["total_details"]!).Remove("breakdown");
        return session;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context, Func<Dictionary<string, string>, (int Status, JsonObject Body)> handle)
    {
        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        if (HttpMethods.IsGet(context.Request.Method))
        {
            // Stripe reads a GET's parameters from the query string, in the same bracket notation as a form.
            foreach (var (key, value) in context.Request.Query)
            {
                form[key] = value.ToString();
            }
        }
        else if (context.Request.HasFormContentType)
        {
            foreach (var (key, value) in await context.Request.ReadFormAsync())
            {
                form[key] = value.ToString();
            }
        }

        var headers = context.Request.Headers;
        var idempotencyKey = Header(headers["Idempotency-Key"]);
        requests.Enqueue(new StripeRequest(context.Request.Method, context.Request.Path.Value!, form, idempotencyKey, Header(headers["Stripe-Version"]), Header(headers.Authorization)));

        if (Header(headers.Authorization) != $"Bearer {ApiKey}")
        {
            await Write(context, 401, Error("invalid_request_error", "Invalid API Key provided: sk_test_****", null));
            return;
        }

        if (Interlocked.Decrement(ref failNext) >= 0)
        {
            await Write(context, 500, Error("api_error", "An unknown error occurred", null));
            return;
        }

        // As Stripe: a second request with a key whose first is still running is refused with 409 (Stripe.net retries those).
        if (idempotencyKey is not null && !inProgress.TryAdd(idempotencyKey, 0))
        {
            await Write(context, 409, Error("idempotency_error", "There is currently another in-progress request using this Idempotency Key (that probably means you submitted twice, and the other request is still going through): " + idempotencyKey + ". Please try again later.", null));
            return;
        }

        try
        {
            await AnswerAsync(context, form, idempotencyKey, handle);
        }
        finally
        {
            if (idempotencyKey is not null)
            {
                inProgress.TryRemove(idempotencyKey, out _);
            }
        }
    }

    private async Task AnswerAsync(HttpContext context, Dictionary<string, string> form, string? idempotencyKey, Func<Dictionary<string, string>, (int Status, JsonObject Body)> handle)
    {
        var fingerprint = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(context.Request.Path + "?" + string.Join('&', form.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")))));
        if (idempotencyKey is not null && idempotent.TryGetValue(idempotencyKey, out var earlier))
        {
            if (earlier.Fingerprint != fingerprint)
            {
                await Write(context, 400, Error("idempotency_error", $"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{idempotencyKey}' if you meant to execute a different request.", null));
                return;
            }

            context.Response.Headers["Idempotent-Replayed"] = "true";
            await Write(context, earlier.Status, JsonNode.Parse(earlier.Body)!.AsObject());
            return;
        }

        var (status, body) = handle(form);
        // As Stripe: nothing is stored for a request refused by validation, so it may be retried with the same key.
        if (idempotencyKey is not null && status < 400)
        {
            idempotent.TryAdd(idempotencyKey, (fingerprint, status, body.ToJsonString()));
        }

        await Write(context, status, body);
    }

    /// <summary>Stripe has created the event (and would send it to the webhook endpoints): it is in the events list from now on.</summary>
    public void Publish(string eventJson)
    {
        lock (events)
        {
            events.Add(JsonNode.Parse(eventJson)!.AsObject());
        }
    }

    private static readonly HashSet<string> EventListParameters = ["created", "delivery_success", "ending_before", "limit", "starting_after", "type", "types"];

    /// <summary>
    /// <c>GET /v1/events</c> as Stripe answers it: newest first, <c>limit</c> 1 to 100 (default 10), <c>types</c> (at most 20,
    /// not with <c>type</c>), <c>created</c> as a range (<c>gt</c>, <c>gte</c>, <c>lt</c>, <c>lte</c>) or one time,
    /// <c>starting_after</c> an event id of the list (older ones follow), a list object with <c>has_more</c>.
    /// </summary>
    private (int, JsonObject) ListEvents(Dictionary<string, string> query)
    {
        if (Unknown(query, EventListParameters) is { } unknown)
        {
            return (400, unknown);
        }

        var limit = 10;
        if (query.TryGetValue("limit", out var limitText) && (!int.TryParse(limitText, out limit) || limit < 1 || limit > 100))
        {
            return (400, Error("invalid_request_error", "This value must be greater than or equal to 1 and less than or equal to 100.", "limit"));
        }

        var types = query.Where(p => p.Key.StartsWith("types[", StringComparison.Ordinal)).Select(p => p.Value).ToList();
        if (types.Count > 20)
        {
            return (400, Error("invalid_request_error", "You can only pass up to 20 types.", "types"));
        }

        if (types.Count > 0 && query.ContainsKey("type"))
        {
            return (400, Error("invalid_request_error", "You may only specify one of these parameters: type, types.", "types"));
        }

        var bounds = new List<Func<long, bool>>();
        foreach (var (key, value) in query.Where(p => p.Key == "created" || p.Key.StartsWith("created[", StringComparison.Ordinal)))
        {
            if (!long.TryParse(value, out var at))
            {
                return (400, Error("invalid_request_error", $"Invalid integer: {value}", key));
            }

            Func<long, bool>? bound = key switch
            {
                "created" => c => c == at,
                "created[gt]" => c => c > at,
                "created[gte]" => c => c >= at,
                "created[lt]" => c => c < at,
                "created[lte]" => c => c <= at,
                _ => null,
            };
            if (bound is null)
            {
                return (400, Error("invalid_request_error", $"Received unknown parameter: {key}", key, "parameter_unknown"));
            }

            bounds.Add(bound);
        }

        List<JsonObject> listed;
        lock (events)
        {
            listed = events
                .Select((e, order) => (Event: e, Order: order))
                .Where(e => types.Count == 0 || types.Contains(e.Event["type"]!.GetValue<string>()))
                .Where(e => !query.TryGetValue("type", out var type) || e.Event["type"]!.GetValue<string>() == type)
                .Where(e => bounds.All(b => b(e.Event["created"]!.GetValue<long>())))
                .OrderByDescending(e => e.Event["created"]!.GetValue<long>()).ThenByDescending(e => e.Order)
                .Select(e => e.Event)
                .ToList();
        }

        if (query.TryGetValue("starting_after", out var after))
        {
            var index = listed.FindIndex(e => e["id"]!.GetValue<string>() == after);
            if (index < 0)
            {
                return (400, Error("invalid_request_error", $"No such event: '{after}'", "starting_after", "resource_missing"));
            }

            listed = listed[(index + 1)..];
        }

        var page = new JsonArray(listed.Take(limit).Select(e => (JsonNode)e.DeepClone()).ToArray());
        return (200, new JsonObject { ["object"] = "list", ["data"] = page, ["has_more"] = listed.Count > limit, ["url"] = "/v1/events" });
    }

    private (int, JsonObject) CreateCustomer(Dictionary<string, string> form)
    {
        if (Unknown(form, CustomerParameters) is { } unknown)
        {
            return (400, unknown);
        }

        if (form.TryGetValue("tax_id_data[0][type]", out var type) && (type != "eu_vat" || !form.ContainsKey("tax_id_data[0][value]")))
        {
            return (400, Error("invalid_request_error", "Invalid value for tax_id_data[0].", "tax_id_data[0][type]"));
        }

        var customer = fixtures["customer"]!.DeepClone().AsObject();
        customer["id"] = "cus_" + RandomId(14);
        Apply(customer, form);
        customers[customer["id"]!.GetValue<string>()] = customer;
        return (200, customer);
    }

    private (int, JsonObject) UpdateCustomer(string id, Dictionary<string, string> form)
    {
        if (!customers.TryGetValue(id, out var customer))
        {
            return (404, Error("invalid_request_error", $"No such customer: '{id}'", "id", "resource_missing"));
        }

        if (Unknown(form, CustomerParameters) is { } unknown)
        {
            return (400, unknown);
        }

        Apply(customer, form);
        return (200, customer);
    }

    private (int, JsonObject) CreateSession(Dictionary<string, string> form)
    {
        if (Unknown(form, SessionParameters) is { } unknown)
        {
            return (400, unknown);
        }

        string? Get(string key) => form.GetValueOrDefault(key);
        if (Get("mode") is not ("payment" or "subscription" or "setup"))
        {
            return (400, Error("invalid_request_error", "Missing required param: mode.", "mode"));
        }

        if (Get("success_url") is null)
        {
            return (400, Error("invalid_request_error", "Missing required param: success_url.", "success_url"));
        }

        if (Get("customer") is not null && Get("customer_email") is not null)
        {
            return (400, Error("invalid_request_error", "You may only specify one of these parameters: customer, customer_email.", "customer_email"));
        }

        if (form.Keys.Any(k => k.StartsWith("customer_update", StringComparison.Ordinal)) && Get("customer") is null)
        {
            return (400, Error("invalid_request_error", "customer_update can only be used with customer.", "customer_update"));
        }

        if (Get("customer") is { } customerId && !customers.ContainsKey(customerId))
        {
            return (400, Error("invalid_request_error", $"No such customer: '{customerId}'", "customer", "resource_missing"));
        }

        if (Get("customer_creation") is { } creation && (creation is not ("always" or "if_required") || Get("mode") != "payment"))
        {
            return (400, Error("invalid_request_error", "customer_creation can only be used in payment mode, with always or if_required.", "customer_creation"));
        }

        if (Get("billing_address_collection") is { } billing && billing is not ("auto" or "required"))
        {
            return (400, Error("invalid_request_error", $"Invalid billing_address_collection: must be one of auto or required", "billing_address_collection"));
        }

        if (Get("line_items[0][quantity]") is not { } quantityText || !long.TryParse(quantityText, out var quantity) || quantity < 1)
        {
            return (400, Error("invalid_request_error", "Missing required param: line_items[0][quantity].", "line_items[0][quantity]"));
        }

        if (Get("line_items[0][price_data][currency]") is not { Length: 3 } currency || !string.Equals(currency, currency.ToLowerInvariant(), StringComparison.Ordinal))
        {
            return (400, Error("invalid_request_error", "Missing required param: line_items[0][price_data][currency].", "line_items[0][price_data][currency]"));
        }

        if (Get("line_items[0][price_data][unit_amount]") is not { } amountText || !long.TryParse(amountText, out var unitAmount) || unitAmount < 0)
        {
            return (400, Error("invalid_request_error", "Invalid integer: line_items[0][price_data][unit_amount].", "line_items[0][price_data][unit_amount]"));
        }

        if (string.IsNullOrEmpty(Get("line_items[0][price_data][product_data][name]")))
        {
            return (400, Error("invalid_request_error", "Missing required param: line_items[0][price_data][product_data][name].", "line_items[0][price_data][product_data][name]"));
        }

        if (Get("line_items[0][price_data][tax_behavior]") is { } behavior && behavior is not ("exclusive" or "inclusive" or "unspecified"))
        {
            return (400, Error("invalid_request_error", "Invalid tax_behavior.", "line_items[0][price_data][tax_behavior]"));
        }

        var session = fixtures["checkout.session"]!.DeepClone().AsObject();
        var id = "cs_test_" + RandomId(40);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        session["id"] = id;
        session["url"] = $"https://checkout.stripe.com/c/pay/{id}";
        session["mode"] = Get("mode");
        session["status"] = "open";
        session["payment_status"] = "unpaid";
        session["payment_intent"] = null;
        session["currency"] = currency;
        session["amount_subtotal"] = unitAmount * quantity;
        session["amount_total"] = unitAmount * quantity;
        session["client_reference_id"] = Get("client_reference_id");
        session["success_url"] = Get("success_url");
        session["cancel_url"] = Get("cancel_url");
        session["customer"] = Get("customer");
        session["customer_email"] = Get("customer_email");
        session["customer_creation"] = Get("customer_creation");
        session["billing_address_collection"] = Get("billing_address_collection");
        session["created"] = now;
        session["expires_at"] = now + (24 * 3600);
        session["automatic_tax"] = new JsonObject { ["enabled"] = Get("automatic_tax[enabled]") == "true", ["liability"] = null, ["provider"] = null, ["status"] = "requires_location_inputs" };
        session["tax_id_collection"] = new JsonObject { ["enabled"] = Get("tax_id_collection[enabled]") == "true", ["required"] = "never" };
        session["invoice_creation"]!["enabled"] = Get("invoice_creation[enabled]") == "true";
        var metadata = new JsonObject();
        foreach (var (key, value) in form.Where(p => p.Key.StartsWith("metadata[", StringComparison.Ordinal)))
        {
            metadata[key["metadata[".Length..^1]] = value;
        }

        session["metadata"] = metadata;
        session["customer_details"] = null;
        session["total_details"] = new JsonObject { ["amount_discount"] = 0, ["amount_shipping"] = 0, ["amount_tax"] = 0 };
        sessions[id] = session;
        return (200, session);
    }

    private (int, JsonObject) CreateRefund(Dictionary<string, string> form)
    {
        if (Unknown(form, RefundParameters) is { } unknown)
        {
            return (400, unknown);
        }

        if (!form.ContainsKey("payment_intent") && !form.ContainsKey("charge"))
        {
            return (400, Error("invalid_request_error", "One of the following params should be provided for this request: payment_intent or charge.", null, "parameter_missing"));
        }

        if (form.TryGetValue("amount", out var amountText) && (!long.TryParse(amountText, out var amount) || amount < 1))
        {
            return (400, Error("invalid_request_error", "Invalid positive integer", "amount"));
        }

        // As Stripe: a refund is of a charge that exists, and never above what it still holds.
        var intent = form.GetValueOrDefault("payment_intent") ?? "";
        if (!charges.TryGetValue(intent, out var charge))
        {
            return (400, Error("invalid_request_error", $"No such payment_intent: '{intent}'", "payment_intent", "resource_missing"));
        }

        long refunded;
        lock (charge)
        {
            var remaining = charge.Amount - charge.Refunded;
            if (remaining == 0)
            {
                return (400, Error("invalid_request_error", $"Charge ch_{intent[3..]} has already been refunded.", null, "charge_already_refunded"));
            }

            refunded = form.TryGetValue("amount", out var given) ? long.Parse(given, System.Globalization.CultureInfo.InvariantCulture) : remaining;
            if (refunded > remaining)
            {
                return (400, Error("invalid_request_error",
                    $"Refund amount ({Money(refunded, charge.Currency)}) is greater than unrefunded amount on charge ({Money(remaining, charge.Currency)})", "amount", "amount_too_large"));
            }

            charge.Refunded += refunded;
        }

        var refund = fixtures["refund"]!.DeepClone().AsObject();
        refund["id"] = "re_" + RandomId(24);
        refund["payment_intent"] = intent;
        refund["charge"] = "ch_" + intent[3..];
        refund["amount"] = refunded;
        refund["currency"] = charge.Currency;
        refund["status"] = "succeeded";
        var metadata = new JsonObject();
        foreach (var (key, value) in form.Where(p => p.Key.StartsWith("metadata[", StringComparison.Ordinal)))
        {
            metadata[key["metadata[".Length..^1]] = value;
        }

        refund["metadata"] = metadata;
        return (200, refund);
    }

    private static string Money(long minor, string currency) =>
        $"{currency.ToUpperInvariant()} {(minor / 100m).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}";

    private static void Apply(JsonObject customer, Dictionary<string, string> form)
    {
        foreach (var field in new[] { "name", "email", "description", "phone" })
        {
            if (form.TryGetValue(field, out var value))
            {
                customer[field] = value;
            }
        }

        if (form.Keys.Any(k => k.StartsWith("address[", StringComparison.Ordinal)))
        {
            customer["address"] = new JsonObject(AddressFields
                .Select(f => KeyValuePair.Create(f, (JsonNode?)(form.TryGetValue($"address[{f}]", out var v) ? JsonValue.Create(v) : null))));
        }
    }

    /// <summary>Stripe refuses any parameter it does not know: <c>Received unknown parameter: x</c>.</summary>
    private static JsonObject? Unknown(Dictionary<string, string> form, HashSet<string> known) =>
        form.Keys.Select(k => k.Split('[')[0]).FirstOrDefault(k => !known.Contains(k)) is { } name
            ? Error("invalid_request_error", $"Received unknown parameter: {name}", name, "parameter_unknown")
            : null;

    private static JsonObject Error(string type, string message, string? param, string? code = null) =>
        new() { ["error"] = new JsonObject { ["type"] = type, ["message"] = message, ["param"] = param, ["code"] = code } };

    private static async Task Write(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers["Request-Id"] = "req_" + RandomId(14);
        await context.Response.WriteAsync(body.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }

    private static string? Header(StringValues value) => StringValues.IsNullOrEmpty(value) ? null : value.ToString();

    private static string RandomId(int length) => Convert.ToHexString(RandomNumberGenerator.GetBytes(length)).ToLowerInvariant()[..length];
}
