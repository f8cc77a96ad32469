using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DecentCloud.Functions.Billing.Receipts;
using DecentCloud.Tests.Support;
using Microsoft.Extensions.Options;

namespace DecentCloud.Tests.Billing;

public sealed class ReceiptMailerTests
{
    private const string ApiKey = "SG.test-key.0123456789abcdefghijklmnopqrstuvwxyz";
    private const string Buyer = "jane.buyer@buyer.example";
    private const string PaymentKey = "pi_3QxTestPayment42";

    private static readonly byte[] Pdf = [.. "%PDF-1.7\n"u8, .. Enumerable.Range(0, 256).Select(b => (byte)b), .. "\n%%EOF"u8];

    private static ReceiptEmail Receipt(string buyerName = "Jane Buyer GmbH") =>
        ReceiptEmail.For("INV-2025-000042", "ct-7f3a9c", buyerName, Buyer, "EUR 119.00", new DateOnly(2025, 3, 5), Pdf, PaymentKey);

    private static Dictionary<string, string?> Settings(SendGridStandIn sendGrid, string apiKey = ApiKey) => new()
    {
        [EmailOptions.ApiKeySetting] = apiKey,
        [EmailOptions.FromSetting] = "billing@decentcloud.example",
        [EmailOptions.ApiHostSetting] = sendGrid.BaseAddress.ToString(),
    };

    private static ServiceProvider Services(IDictionary<string, string?> settings, CapturedLogs? logs = null)
    {
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .AddLogging(logging =>
            {
                if (logs is not null)
                {
                    logging.AddProvider(logs);
                }
            });
        services.AddReceiptEmail();
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task A_receipt_is_sent_to_the_buyer_with_the_invoice_pdf_attached()
    {
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        await using var services = Services(Settings(sendGrid));

        var messageId = await services.GetRequiredService<ReceiptMailer>().SendAsync(Receipt(), CancellationToken.None);

        var sent = Assert.Single(sendGrid.Sent);
        Assert.Equal(sent.MessageId, messageId);
        Assert.Equal(new SentAddress(Buyer, "Jane Buyer GmbH"), Assert.Single(sent.To));
        Assert.Equal(new SentAddress("billing@decentcloud.example", "Decent Cloud"), sent.From);
        Assert.Contains("INV-2025-000042", sent.Subject, StringComparison.Ordinal);
        Assert.Contains("Thank you for your payment of EUR 119.00", sent.Text, StringComparison.Ordinal);
        Assert.Contains("ct-7f3a9c", sent.Html, StringComparison.Ordinal);
        var attachment = Assert.Single(sent.Attachments);
        Assert.Equal("INV-2025-000042.pdf", attachment.FileName);
        Assert.Equal("application/pdf", attachment.Type);
        Assert.Equal("attachment", attachment.Disposition);
        Assert.Equal(Pdf, attachment.Content);
    }

    [Fact]
    public async Task The_payment_key_travels_as_a_custom_arg_so_a_sent_mail_can_be_traced()
    {
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        await using var services = Services(Settings(sendGrid));

        await services.GetRequiredService<ReceiptMailer>().SendAsync(Receipt(), CancellationToken.None);

        Assert.Equal(PaymentKey, Assert.Single(sendGrid.Sent).CustomArgs[ReceiptMailer.PaymentKeyArg]);
    }

    [Fact]
    public async Task The_sender_name_comes_from_EMAIL_FROM_NAME()
    {
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        var settings = Settings(sendGrid);
        settings[EmailOptions.FromNameSetting] = "Decent Cloud Billing";
        await using var services = Services(settings);

        await services.GetRequiredService<ReceiptMailer>().SendAsync(Receipt(), CancellationToken.None);

        Assert.Equal("Decent Cloud Billing", Assert.Single(sendGrid.Sent).From.Name);
    }

    [Fact]
    public async Task A_wrong_api_key_is_refused_with_401_and_the_key_stays_out_of_the_error()
    {
        const string wrongKey = "SG.wrong-key.this-one-must-never-show-up-anywhere";
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        var logs = new CapturedLogs();
        await using var services = Services(Settings(sendGrid, wrongKey), logs);

        var failure = await Assert.ThrowsAsync<EmailSendException>(() => services.GetRequiredService<ReceiptMailer>().SendAsync(Receipt(), CancellationToken.None));

        Assert.Equal(HttpStatusCode.Unauthorized, failure.StatusCode);
        Assert.False(failure.IsTransient);
        Assert.Contains(SendGridStandIn.InvalidKeyMessage, failure.Errors);
        Assert.Contains(PaymentKey, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, failure.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, entry => entry.Message.Contains(wrongKey, StringComparison.Ordinal));
        Assert.Empty(sendGrid.Sent);
    }

    [Fact]
    public async Task A_sendgrid_server_error_throws_once_without_retrying_inside_and_the_next_call_goes_through()
    {
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        await using var services = Services(Settings(sendGrid));
        var mailer = services.GetRequiredService<ReceiptMailer>();
        sendGrid.FailNext(1, 500);

        var failure = await Assert.ThrowsAsync<EmailSendException>(() => mailer.SendAsync(Receipt(), CancellationToken.None));
        var requestsAfterFailure = sendGrid.RequestCount;
        await mailer.SendAsync(Receipt(), CancellationToken.None);

        Assert.Equal(HttpStatusCode.InternalServerError, failure.StatusCode);
        Assert.True(failure.IsTransient);
        Assert.Contains("internal error", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, requestsAfterFailure);
        Assert.Single(sendGrid.Sent);
    }

    [Fact]
    public async Task Too_many_requests_throws_a_transient_failure_with_status_429()
    {
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        await using var services = Services(Settings(sendGrid));
        sendGrid.FailNext(1, 429);

        var failure = await Assert.ThrowsAsync<EmailSendException>(() => services.GetRequiredService<ReceiptMailer>().SendAsync(Receipt(), CancellationToken.None));

        Assert.Equal(HttpStatusCode.TooManyRequests, failure.StatusCode);
        Assert.True(failure.IsTransient);
        Assert.Equal(["too many requests"], failure.Errors);
    }

    [Fact]
    public async Task An_unreachable_sendgrid_throws_with_the_transport_failure_inside()
    {
        var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        var settings = Settings(sendGrid);
        await sendGrid.DisposeAsync();
        await using var services = Services(settings);

        var failure = await Assert.ThrowsAsync<EmailSendException>(() => services.GetRequiredService<ReceiptMailer>().SendAsync(Receipt(), CancellationToken.None));

        Assert.Null(failure.StatusCode);
        Assert.True(failure.IsTransient);
        Assert.IsType<HttpRequestException>(failure.InnerException);
        Assert.Contains(PaymentKey, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cancelled_send_is_a_cancellation_not_a_send_failure()
    {
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        await using var services = Services(Settings(sendGrid));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => services.GetRequiredService<ReceiptMailer>().SendAsync(Receipt(), new CancellationToken(canceled: true)));

        Assert.Empty(sendGrid.Sent);
    }

    [Fact]
    public async Task Sending_logs_the_payment_and_message_id_but_not_the_address_or_the_key()
    {
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        var logs = new CapturedLogs();
        await using var services = Services(Settings(sendGrid), logs);

        var messageId = await services.GetRequiredService<ReceiptMailer>().SendAsync(Receipt(), CancellationToken.None);

        var sent = Assert.Single(logs.Entries, entry => entry.EventId.Id == 8400);
        Assert.Contains(PaymentKey, sent.Message, StringComparison.Ordinal);
        Assert.Contains(messageId!, sent.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, entry => entry.Message.Contains(Buyer, StringComparison.OrdinalIgnoreCase) || entry.Message.Contains(ApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public void The_html_escapes_what_the_buyer_typed_and_the_plain_text_keeps_it()
    {
        var receipt = Receipt(buyerName: "<script>alert('x')</script> & Co");

        Assert.DoesNotContain("<script>", receipt.Html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;", receipt.Html, StringComparison.Ordinal);
        Assert.Contains("&amp; Co", receipt.Html, StringComparison.Ordinal);
        Assert.Contains("Hello <script>alert('x')</script> & Co,", receipt.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public void A_receipt_says_what_was_paid_for_and_what_is_attached()
    {
        var receipt = Receipt();

        Assert.Equal("Your receipt: invoice INV-2025-000042", receipt.Subject);
        Assert.Equal("Jane Buyer GmbH", receipt.ToName);
        Assert.Contains("Thank you for your payment of EUR 119.00.", receipt.PlainText, StringComparison.Ordinal);
        Assert.Contains("Invoice INV-2025-000042, issued 5 March 2025, is attached as a PDF. It covers contract ct-7f3a9c.", receipt.PlainText, StringComparison.Ordinal);
        Assert.Contains("<strong>INV-2025-000042</strong>", receipt.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_receipt_without_a_buyer_name_greets_without_one()
    {
        var receipt = Receipt(buyerName: " ");

        Assert.Null(receipt.ToName);
        Assert.StartsWith("Hello,", receipt.PlainText, StringComparison.Ordinal);
    }

    [Fact]
    public void A_receipt_to_an_invalid_address_is_refused_without_repeating_the_address()
    {
        var failure = Assert.Throws<ArgumentException>(() =>
            ReceiptEmail.For("INV-2025-000042", "ct-7f3a9c", "Jane", "not an address", "EUR 1.00", new DateOnly(2025, 3, 5), Pdf, PaymentKey));

        Assert.DoesNotContain("not an address", failure.Message, StringComparison.Ordinal);
        Assert.Contains(PaymentKey, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(EmailOptions.ApiKeySetting, null)]
    [InlineData(EmailOptions.ApiKeySetting, "")]
    [InlineData(EmailOptions.FromSetting, null)]
    [InlineData(EmailOptions.FromSetting, "not-an-address")]
    [InlineData(EmailOptions.FromSetting, "Decent Cloud <billing@decentcloud.example>")]
    [InlineData(EmailOptions.ApiHostSetting, "api.sendgrid.com")]
    [InlineData(EmailOptions.ApiHostSetting, "ftp://api.sendgrid.com")]
    public async Task A_missing_or_bad_email_setting_fails_start_up_validation_naming_it(string setting, string? value)
    {
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        var settings = Settings(sendGrid);
        settings[setting] = value;
        if (value is null)
        {
            settings.Remove(setting);
        }

        await using var services = Services(settings);

        // The start-up validator is what ValidateOnStart registers: the host runs it before anything listens.
        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(failure.Failures, f => f.StartsWith($"{setting}:", StringComparison.Ordinal));
        Assert.DoesNotContain(ApiKey, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_api_host_defaults_to_sendgrid()
    {
        await using var services = Services(new Dictionary<string, string?>
        {
            [EmailOptions.ApiKeySetting] = ApiKey,
            [EmailOptions.FromSetting] = "billing@decentcloud.example",
        });

        var options = services.GetRequiredService<IOptions<EmailOptions>>().Value;

        Assert.Equal("https://api.sendgrid.com", options.ApiHost);
        Assert.Equal("Decent Cloud", options.FromName);
    }

    public static TheoryData<string, string> ContractBreaches => new()
    {
        { """{"from":{"email":"a@b.example"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}""", "personalizations" },
        { """{"personalizations":[],"from":{"email":"a@b.example"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}""", "personalizations" },
        { """{"personalizations":[{}],"from":{"email":"a@b.example"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}""", "personalizations.0.to" },
        { """{"personalizations":[{"to":[{"email":"nobody"}]}],"from":{"email":"a@b.example"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}""", "personalizations.0.to.0.email" },
        { """{"personalizations":[{"to":[{"email":"c@d.example"}]}],"subject":"s","content":[{"type":"text/plain","value":"v"}]}""", "from.email" },
        { """{"personalizations":[{"to":[{"email":"c@d.example"}]}],"from":{"email":"a@b.example"},"content":[{"type":"text/plain","value":"v"}]}""", "subject" },
        { """{"personalizations":[{"to":[{"email":"c@d.example"}]}],"from":{"email":"a@b.example"},"subject":"s"}""", "content" },
        { """{"personalizations":[{"to":[{"email":"c@d.example"}]}],"from":{"email":"a@b.example"},"subject":"s","content":[{"type":"text/plain","value":""}]}""", "content.0.value" },
        { """{"personalizations":[{"to":[{"email":"c@d.example"}]}],"from":{"email":"a@b.example"},"subject":"s","content":[{"type":"text/html","value":"<p>h</p>"},{"type":"text/plain","value":"t"}]}""", "content" },
        { """{"personalizations":[{"to":[{"email":"c@d.example"}]}],"from":{"email":"a@b.example"},"subject":"s","content":[{"type":"text/plain","value":"v"}],"attachments":[{"content":"not base64!","filename":"a.pdf"}]}""", "attachments.0.content" },
        { """{"personalizations":[{"to":[{"email":"c@d.example"}]}],"from":{"email":"a@b.example"},"subject":"s","content":[{"type":"text/plain","value":"v"}],"attachments":[{"content":"JVBERg=="}]}""", "attachments.0.filename" },
        { """{"personalizations":[{"to":[{"email":"c@d.example"}]}],"from":{"email":"a@b.example"},"subject":"s","content":[{"type":"text/plain","value":"v"}],"custom_args":{"payment_key":42}}""", "custom_args.payment_key" },
    };

    [Theory]
    [MemberData(nameof(ContractBreaches))]
    public async Task The_stand_in_refuses_a_request_that_breaks_the_mail_send_contract_naming_the_field(string body, string field)
    {
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        using var client = new HttpClient { BaseAddress = sendGrid.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "v3/mail/send") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(errors.RootElement.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == field && e.GetProperty("message").GetString()!.Length > 0);
        Assert.Empty(sendGrid.Sent);
    }

    [Fact]
    public async Task The_stand_in_accepts_a_minimal_documented_request_with_202_and_a_message_id()
    {
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        using var client = new HttpClient { BaseAddress = sendGrid.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "v3/mail/send")
        {
            Content = new StringContent(
                """{"personalizations":[{"to":[{"email":"c@d.example"}]}],"from":{"email":"a@b.example"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}""",
                Encoding.UTF8,
                "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(Assert.Single(sendGrid.Sent).MessageId, Assert.Single(response.Headers.GetValues("X-Message-Id")));
    }

    [Fact]
    public async Task The_stand_in_refuses_a_request_without_the_bearer_key_with_sendgrids_401_body()
    {
        await using var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        using var client = new HttpClient { BaseAddress = sendGrid.BaseAddress };

        using var response = await client.PostAsync("v3/mail/send", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = Assert.Single(errors.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal(SendGridStandIn.InvalidKeyMessage, error.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("field").ValueKind);
    }
}
