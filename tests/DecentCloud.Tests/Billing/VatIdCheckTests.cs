using Azure.Data.Tables;
using DecentCloud.Functions.Billing.Vat;
using DecentCloud.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace DecentCloud.Tests.Billing;

/// <summary>VAT ID checks against real Azurite tables and the VIES stand-in; each test uses its own numbers.</summary>
public sealed class VatIdCheckTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider clock = new(Start);
    private readonly CapturedLogs logs = new();
    private ViesStandIn? standIn;
    private HttpClient? http;
    private ILoggerFactory? loggerFactory;

    private ViesStandIn StandIn => standIn ?? throw new InvalidOperationException("not started");

    private TableServiceClient Tables => new(storage.ConnectionString);

    public async Task InitializeAsync()
    {
        // The stand-in stamps requests with the test's clock, so the back-off between attempts can be measured.
        standIn = await ViesStandIn.StartAsync(clock);
        http = new HttpClient { BaseAddress = standIn.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        loggerFactory = LoggerFactory.Create(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
    }

    public async Task DisposeAsync()
    {
        if (standIn is not null)
        {
            await standIn.DisposeAsync();
        }
    }

    public void Dispose()
    {
        http?.Dispose();
        loggerFactory?.Dispose();
        logs.Dispose();
    }

    [Fact]
    public async Task A_valid_answer_is_cached_so_a_second_check_asks_vies_nothing()
    {
        StandIn.AddValid("DE", "111111111", "Acme GmbH", "Hauptstr. 1\n10115 Berlin");
        var checks = Checks();

        var first = await checks.CheckAsync("de 111 111 111", CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(23));
        var second = await checks.CheckAsync("DE111111111", CancellationToken.None);

        Assert.Equal(new VatIdCheck("DE111111111", VatIdStatus.Valid, "Acme GmbH", "Hauptstr. 1\n10115 Berlin", Start, "vies"), first);
        Assert.Equal(first with { Source = "cache" }, second);
        Assert.Single(StandIn.Requests);
        var row = await RowAsync("DE", "111111111");
        Assert.Equal(("Valid", "Acme GmbH", Start, null), (row.Status, row.Name, row.CheckedAt, row.LastError));
    }

    [Fact]
    public async Task The_cached_answer_expires_after_24_hours()
    {
        StandIn.AddValid("DE", "222222222", "Acme GmbH", null);
        var checks = Checks();

        await checks.CheckAsync("DE222222222", CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(24));
        var later = await checks.CheckAsync("DE222222222", CancellationToken.None);

        Assert.Equal(("vies", Start.AddHours(24)), (later.Source, later.CheckedAt));
        Assert.Equal(2, StandIn.Requests.Count);
        Assert.Equal(Start.AddHours(24), (await RowAsync("DE", "222222222")).CheckedAt);
    }

    [Fact]
    public async Task A_number_vies_does_not_know_is_invalid_and_that_is_cached_too()
    {
        var checks = Checks();

        var first = await checks.CheckAsync("FR00000000001", CancellationToken.None);
        var second = await checks.CheckAsync("FR00000000001", CancellationToken.None);

        Assert.Equal(new VatIdCheck("FR00000000001", VatIdStatus.Invalid, null, null, Start, "vies"), first);
        Assert.Equal("cache", second.Source);
        Assert.Single(StandIn.Requests);
        Assert.Equal("Invalid", (await RowAsync("FR", "00000000001")).Status);
    }

    [Fact]
    public async Task A_prefix_vies_rejects_as_invalid_input_is_invalid()
    {
        var result = await Checks().CheckAsync("XX123456789", CancellationToken.None);

        Assert.Equal((VatIdStatus.Invalid, "vies"), (result.Status, result.Source));
        Assert.Equal("countryCode XX is not a VIES country", Assert.Single(StandIn.Requests).Rejection);
    }

    [Fact]
    public async Task Vies_down_means_unverified_after_three_attempts_recorded_on_the_row_without_an_exception()
    {
        StandIn.AddValid("IT", "33333333333", "ACME SRL", null);
        StandIn.FailWith(ViesFailure.MemberStateUnavailable);

        var result = await WhileTimePasses(Checks().CheckAsync("IT33333333333", CancellationToken.None));

        Assert.Equal((VatIdStatus.Unverified, "unverified", null), (result.Status, result.Source, result.Name));
        var requests = StandIn.Requests;
        Assert.Equal(3, requests.Count);
        Assert.InRange(requests[1].At - requests[0].At, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(1));
        Assert.InRange(requests[2].At - requests[1].At, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        var row = await RowAsync("IT", "33333333333");
        Assert.Equal((null, null, "MS_UNAVAILABLE", result.CheckedAt), (row.Status, row.CheckedAt, row.LastError, row.LastAttemptAt));
        var warning = Assert.Single(logs.Entries, entry => entry.EventId.Id == 8304);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.IsType<ViesUnavailableException>(warning.Exception);
        Assert.Contains("IT********333", warning.Message, StringComparison.Ordinal);
        Assert.Equal(2, logs.Entries.Count(entry => entry.EventId.Id == 8303));
    }

    [Fact]
    public async Task Vies_recovering_on_a_retry_gives_its_answer()
    {
        StandIn.AddValid("NL", "123456789B01", "Acme B.V.", null);
        StandIn.FailWith(ViesFailure.ServerError, times: 1);

        var result = await WhileTimePasses(Checks().CheckAsync("NL123456789B01", CancellationToken.None));

        Assert.Equal((VatIdStatus.Valid, "vies", "Acme B.V."), (result.Status, result.Source, result.Name));
        Assert.Equal(2, StandIn.Requests.Count);
        Assert.Null((await RowAsync("NL", "123456789B01")).LastError);
    }

    [Fact]
    public async Task An_unverified_attempt_keeps_the_earlier_answer_and_returns_its_name()
    {
        StandIn.AddValid("AT", "U44444444", "Acme GmbH Wien", "Ring 1");
        var checks = Checks();
        var first = await checks.CheckAsync("ATU44444444", CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(25));
        StandIn.FailWith(ViesFailure.ServerError);

        var later = await WhileTimePasses(checks.CheckAsync("ATU44444444", CancellationToken.None));

        Assert.Equal((VatIdStatus.Unverified, "unverified", "Acme GmbH Wien", "Ring 1"), (later.Status, later.Source, later.Name, later.Address));
        var row = await RowAsync("AT", "U44444444");
        Assert.Equal(("Valid", "Acme GmbH Wien", first.CheckedAt), (row.Status, row.Name, row.CheckedAt));
        Assert.Equal(("HTTP 500", later.CheckedAt), (row.LastError, row.LastAttemptAt));
    }

    [Fact]
    public async Task A_later_answer_after_an_outage_clears_the_error()
    {
        StandIn.AddValid("BE", "0555555555", "Acme SRL", null);
        var checks = Checks();
        StandIn.FailWith(ViesFailure.MemberStateBusy);
        await WhileTimePasses(checks.CheckAsync("BE0555555555", CancellationToken.None));
        StandIn.FailWith(ViesFailure.None, 0);

        var result = await checks.CheckAsync("BE0555555555", CancellationToken.None);

        Assert.Equal((VatIdStatus.Valid, "vies"), (result.Status, result.Source));
        var row = await RowAsync("BE", "0555555555");
        Assert.Equal(("Valid", null), (row.Status, row.LastError));
    }

    [Theory]
    [InlineData("123456789")]
    [InlineData("DE1")]
    [InlineData("DE12345678901234")]
    [InlineData("DE12345/789")]
    [InlineData("")]
    public async Task A_malformed_vat_id_is_invalid_without_asking_vies(string vatId)
    {
        var result = await Checks().CheckAsync(vatId, CancellationToken.None);

        Assert.Equal((VatIdStatus.Invalid, "format"), (result.Status, result.Source));
        Assert.Empty(StandIn.Requests);
    }

    [Fact]
    public async Task A_greek_number_goes_to_vies_under_el_as_the_contract_says()
    {
        StandIn.AddValid("EL", "094259216", "ACME AE", null);

        var result = await Checks().CheckAsync("EL 094-259.216", CancellationToken.None);

        Assert.Equal((VatIdStatus.Valid, "EL094259216"), (result.Status, result.VatId));
        Assert.Single(StandIn.Requests).AssertCheckOf("EL", "094259216");
        Assert.Equal("Valid", (await RowAsync("EL", "094259216")).Status);
    }

    [Fact]
    public async Task Storage_failures_propagate_with_what_was_being_done()
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 0;
        var unreachable = new TableServiceClient(new Uri("http://127.0.0.1:9/devstoreaccount1"), new TableSharedKeyCredential("devstoreaccount1", "AAAA"), options);
        var checks = new VatIdChecks(unreachable, new ViesClient(http!), clock, loggerFactory!.CreateLogger<VatIdChecks>());

        var error = await Assert.ThrowsAsync<VatIdCheckException>(() => checks.CheckAsync("DE666666666", CancellationToken.None));

        Assert.Contains("DE******666", error.Message, StringComparison.Ordinal);
        Assert.Contains(VatIdChecks.TableName, error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.InnerException);
        Assert.Empty(StandIn.Requests);
    }

    private VatIdChecks Checks() => new(Tables, new ViesClient(http!), clock, loggerFactory!.CreateLogger<VatIdChecks>());

    private async Task<VatIdCheckEntity> RowAsync(string prefix, string number) =>
        (await Tables.GetTableClient(VatIdChecks.TableName).GetEntityAsync<VatIdCheckEntity>(prefix, number)).Value;

    /// <summary>
    /// Moves the fake clock on in small steps until the check completes, so that its back-off (a delay on that
    /// clock) passes in a few milliseconds. Each step fires a delay only once it has been scheduled, so none is
    /// skipped however the steps and the check interleave.
    /// </summary>
    private async Task<T> WhileTimePasses<T>(Task<T> task)
    {
        while (!task.IsCompleted)
        {
            clock.Advance(TimeSpan.FromMilliseconds(50));
            await Task.WhenAny(task, Task.Delay(5));
        }

        return await task;
    }
}
