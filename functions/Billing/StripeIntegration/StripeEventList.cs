using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Stripe;

namespace DecentCloud.Functions.Billing.StripeIntegration;

/// <summary>
/// Stripe's Events list API (<c>GET /v1/events</c>), read raw: each event's JSON is kept exactly as Stripe rendered it, so
/// an event found here enters processing as the same text a webhook would have carried. Stripe lists newest first, at
/// most 100 per page; <c>starting_after</c> (the last id of a page) goes on to older ones, and <c>has_more</c> says
/// whether there are any. Stripe keeps events for 30 days.
/// </summary>
public sealed class StripeEventList(IHttpClientFactory http, IOptions<StripeOptions> options)
{
    public const int PageSize = 100;

    /// <summary>One page of events of <paramref name="types"/> created in (<paramref name="after"/>, <paramref name="before"/>), newest first.</summary>
    public async Task<StripeEventPage> PageAsync(IReadOnlyList<string> types, DateTimeOffset after, DateTimeOffset before, string? startingAfter, CancellationToken cancellationToken)
    {
        var query = new StringBuilder("v1/events?limit=").Append(PageSize);
        for (var i = 0; i < types.Count; i++)
        {
            query.Append(CultureInfo.InvariantCulture, $"&types[{i}]=").Append(Uri.EscapeDataString(types[i]));
        }

        query.Append(CultureInfo.InvariantCulture, $"&created[gt]={after.ToUnixTimeSeconds()}&created[lt]={before.ToUnixTimeSeconds()}");
        if (startingAfter is not null)
        {
            query.Append("&starting_after=").Append(Uri.EscapeDataString(startingAfter));
        }

        var settings = options.Value;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(settings.ApiBase.ToString().TrimEnd('/') + "/"), query.ToString()));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.SecretKey);
        request.Headers.Add("Stripe-Version", StripeConfiguration.ApiVersion);
        var client = http.CreateClient(nameof(StripeGateway));

        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new StripeListException($"listing Stripe events: {ex.Message}", null, ex);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new StripeListException($"listing Stripe events: Stripe answered {(int)response.StatusCode} {ErrorOf(text)}".TrimEnd(), (int)response.StatusCode, null);
            }

            return Read(text);
        }
    }

    private static StripeEventPage Read(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var events = root.GetProperty("data").EnumerateArray().Select(e => e.GetRawText()).ToList();
            return new StripeEventPage(events, root.GetProperty("has_more").GetBoolean());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new StripeListException("listing Stripe events: the answer is not a Stripe list", null, ex);
        }
    }

    /// <summary>Stripe's error type, code and message, never the request (it holds no secret, but the key header does).</summary>
    private static string ErrorOf(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var error = document.RootElement.GetProperty("error");
            string? Field(string name) => error.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            return $"{Field("type")} {Field("code")}: {Field("message")}";
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }
}

/// <param name="Events">Each event's JSON as Stripe sent it, newest first.</param>
public sealed record StripeEventPage(IReadOnlyList<string> Events, bool HasMore);

/// <summary>Listing Stripe's events failed; <see cref="Status"/> is Stripe's HTTP status when it answered.</summary>
public sealed class StripeListException(string message, int? status, Exception? inner) : Exception(message, inner)
{
    public int? Status { get; } = status;
}
