using System.Net;
using System.Net.Sockets;
using DecentCloud.Functions.Billing.Vat;

namespace DecentCloud.Tests.Billing;

/// <summary>The VIES client against the stand-in: what it sends, and which answers are answers.</summary>
public sealed class ViesClientTests : IAsyncLifetime
{
    private ViesStandIn? standIn;

    private ViesStandIn StandIn => standIn ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => standIn = await ViesStandIn.StartAsync();

    public async Task DisposeAsync()
    {
        if (standIn is not null)
        {
            await standIn.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_check_posts_the_prefix_and_number_as_json_to_check_vat_number()
    {
        StandIn.AddValid("EL", "094259216", "ACME AE", "ATHINA");
        using var http = Http();

        var answer = await new ViesClient(http).CheckAsync("EL", "094259216", CancellationToken.None);

        Assert.Equal(new ViesAnswer(true, "ACME AE", "ATHINA", answer.RequestDate, null), answer);
        Assert.NotNull(answer.RequestDate);
        Assert.Single(StandIn.Requests).AssertCheckOf("EL", "094259216");
    }

    [Fact]
    public async Task A_base_address_without_a_trailing_slash_keeps_its_last_segment()
    {
        StandIn.AddValid("DE", "123456789", null, null);
        var root = StandIn.BaseAddress.AbsoluteUri.TrimEnd('/');
        using var http = new HttpClient { BaseAddress = VatServices.WithTrailingSlash(new Uri(root)) };

        var answer = await new ViesClient(http).CheckAsync("DE", "123456789", CancellationToken.None);

        Assert.True(answer.Valid);
        Assert.Equal(ViesStandIn.RootPath + "check-vat-number", Assert.Single(StandIn.Requests).Path);
    }

    [Fact]
    public async Task An_unknown_number_is_a_definite_no_and_dashes_are_no_name()
    {
        using var http = Http();

        var answer = await new ViesClient(http).CheckAsync("DE", "000000000", CancellationToken.None);

        Assert.Equal((false, null, null), (answer.Valid, answer.Name, answer.Address));
    }

    [Fact]
    public async Task A_number_vies_rejects_as_invalid_input_is_a_definite_no()
    {
        using var http = Http();

        var answer = await new ViesClient(http).CheckAsync("XX", "123456789", CancellationToken.None);

        Assert.Equal((false, "INVALID_INPUT"), (answer.Valid, answer.UserError));
    }

    [Theory]
    [InlineData(ViesFailure.MemberStateUnavailable, "MS_UNAVAILABLE")]
    [InlineData(ViesFailure.MemberStateBusy, "MS_MAX_CONCURRENT_REQ")]
    [InlineData(ViesFailure.ServerError, "HTTP 500")]
    public async Task Vies_unable_to_answer_throws_unavailable_naming_the_vat_id(ViesFailure failure, string reason)
    {
        StandIn.AddValid("DE", "123456789", "Acme", null);
        StandIn.FailWith(failure);
        using var http = Http();

        var error = await Assert.ThrowsAsync<ViesUnavailableException>(() => new ViesClient(http).CheckAsync("DE", "123456789", CancellationToken.None));

        Assert.Equal(reason, error.Reason);
        Assert.Contains("DE******789", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("123456789", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_slow_vies_times_out_as_unavailable_with_the_cause_kept()
    {
        StandIn.FailWith(ViesFailure.Slow);
        using var http = Http(TimeSpan.FromMilliseconds(300));

        var error = await Assert.ThrowsAsync<ViesUnavailableException>(() => new ViesClient(http).CheckAsync("DE", "123456789", CancellationToken.None));

        Assert.Equal("timed out", error.Reason);
        Assert.IsAssignableFrom<OperationCanceledException>(error.InnerException);
    }

    [Fact]
    public async Task A_refused_connection_is_unavailable_with_the_cause_kept()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{FreePort()}/rest-api/") };

        var error = await Assert.ThrowsAsync<ViesUnavailableException>(() => new ViesClient(http).CheckAsync("DE", "123456789", CancellationToken.None));

        Assert.Equal("connection failed", error.Reason);
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task A_cancellation_by_the_caller_is_not_vies_being_down()
    {
        StandIn.FailWith(ViesFailure.Slow);
        using var http = Http();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ViesClient(http).CheckAsync("DE", "123456789", cancel.Token));
    }

    private HttpClient Http(TimeSpan? timeout = null) => new() { BaseAddress = StandIn.BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(10) };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
