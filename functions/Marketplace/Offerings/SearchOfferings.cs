using DecentCloud.Functions.Platform.Http;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DecentCloud.Functions.Marketplace.Offerings;

/// <summary><c>GET /api/v1/offerings</c>: public search of visible offerings in stock, with filters and paging.</summary>
public sealed class SearchOfferings(OfferingStore store)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    [EndpointSummary("Search offerings")]
    [EndpointDescription("Anonymous. Offerings that are not hidden and have stock, filtered by country (ISO alpha-2), currency (ISO 4217; "
        + "required with minPrice or maxPrice, in minor units), minCpu, minRamGb and type (vm, container, baremetal). "
        + "pageSize is 1 to 100 (default 20); pass the answer's next as continuation for the next page (a page may hold fewer items "
        + "than pageSize and still have a next). 400 with an error per invalid parameter.")]
    [Query("country", "currency", "minPrice", "maxPrice", "minCpu", "minRamGb", "type", "pageSize", "continuation")]
    [Function(nameof(SearchOfferings))]
    public async Task<Results<Ok<OfferingPage>, ValidationProblem>> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/offerings")] HttpRequest request, CancellationToken cancellationToken)
    {
        var country = QueryValues.Text(request, "country");
        var currency = QueryValues.Text(request, "currency");
        var minPrice = QueryValues.Text(request, "minPrice");
        var maxPrice = QueryValues.Text(request, "maxPrice");
        var minCpu = QueryValues.Text(request, "minCpu");
        var minRamGb = QueryValues.Text(request, "minRamGb");
        var type = QueryValues.Text(request, "type");
        var pageSize = QueryValues.Text(request, "pageSize");
        var continuation = QueryValues.Text(request, "continuation");
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var filters = new List<string>
        {
            TableClient.CreateQueryFilter($"Hidden eq {false}"),
            TableClient.CreateQueryFilter($"Stock gt {0}"),
        };

        if (country is not null)
        {
            if (OfferingSpec.IsCountry(country))
            {
                filters.Add(TableClient.CreateQueryFilter($"Country eq {country}"));
            }
            else
            {
                errors["country"] = ["country is an ISO 3166-1 alpha-2 code in upper case (DE)."];
            }
        }

        if (currency is not null)
        {
            if (OfferingSpec.IsCurrency(currency))
            {
                filters.Add(TableClient.CreateQueryFilter($"Currency eq {currency}"));
            }
            else
            {
                errors["currency"] = ["currency is an ISO 4217 code of three upper-case letters (EUR)."];
            }
        }

        var min = ParseLong(minPrice, "minPrice", errors);
        var max = ParseLong(maxPrice, "maxPrice", errors);
        if ((min is not null || max is not null) && currency is null)
        {
            errors["currency"] = ["currency is required with minPrice or maxPrice: prices compare only within one currency."];
        }

        if (min is { } low)
        {
            filters.Add(TableClient.CreateQueryFilter($"MonthlyPriceMinor ge {low}"));
        }

        if (max is { } high)
        {
            if (min is { } floor && high < floor)
            {
                errors["maxPrice"] = ["maxPrice is at least minPrice."];
            }

            filters.Add(TableClient.CreateQueryFilter($"MonthlyPriceMinor le {high}"));
        }

        if (ParseInt(minCpu, "minCpu", 1, OfferingSpec.MaxCpuCores, errors) is { } cpu)
        {
            filters.Add(TableClient.CreateQueryFilter($"CpuCores ge {cpu}"));
        }

        if (ParseInt(minRamGb, "minRamGb", 1, int.MaxValue, errors) is { } ram)
        {
            filters.Add(TableClient.CreateQueryFilter($"RamGb ge {ram}"));
        }

        if (type is not null)
        {
            if (OfferingSpec.ProductTypes.Contains(type))
            {
                filters.Add(TableClient.CreateQueryFilter($"ProductType eq {type}"));
            }
            else
            {
                errors["type"] = [$"type is one of {string.Join(", ", OfferingSpec.ProductTypes)}."];
            }
        }

        var size = ParseInt(pageSize, "pageSize", 1, MaxPageSize, errors) ?? DefaultPageSize;
        var token = DecodeContinuation(continuation, errors);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        try
        {
            var (items, next) = await store.QueryPageAsync(string.Join(" and ", filters), size, token, cancellationToken);
            return TypedResults.Ok(new OfferingPage(items.Select(o => o.ToView()).ToList(), EncodeContinuation(next)));
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status400BadRequest && token is not null)
        {
            // Only the token comes through unchecked by the filters above.
            errors["continuation"] = ["continuation is not a token this search gave out."];
            return Invalid(errors);
        }
    }

    private static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "Search parameters not valid");

    private static long? ParseLong(string? value, string name, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }

        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        errors[name] = [$"{name} is a whole number of minor units, 0 or more."];
        return null;
    }

    private static int? ParseInt(string? value, string name, int min, int max, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max)
        {
            return number;
        }

        errors[name] = [max == int.MaxValue ? $"{name} is a whole number, at least {min}." : $"{name} is a whole number from {min} to {max}."];
        return null;
    }

    /// <summary>The storage continuation token as the client sees it: base64url of its UTF-8 text.</summary>
    private static string? EncodeContinuation(string? token) =>
        string.IsNullOrEmpty(token) ? null : Base64Url.EncodeToString(Encoding.UTF8.GetBytes(token));

    private static string? DecodeContinuation(string? continuation, Dictionary<string, string[]> errors)
    {
        if (continuation is null)
        {
            return null;
        }

        try
        {
            var token = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(continuation));
            // The table client's token is "{nextPartitionKey} {nextRowKey}".
            if (token.Split(' ') is [{ Length: > 0 }, _])
            {
                return token;
            }
        }
        catch (FormatException)
        {
        }

        errors["continuation"] = ["continuation is not a token this search gave out."];
        return null;
    }
}
