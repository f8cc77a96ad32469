using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Functions.Platform.Queues;
using DecentCloud.Testing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Chatwoot.Webhooks;

/// <summary>The Chatwoot webhook through the real host and Azurite: verification, the queue message, dedupe and forwarding.</summary>
public sealed class ChatwootWebhookTests(ChatwootWebhookTests.Apps apps) : IClassFixture<ChatwootWebhookTests.Apps>
{
    private string? connectionString;

    private const string ProviderKey = "ed25519:provider-5f2c";
    private const string InboxSecret = "cw-inbox-channel-secret-9kX4bV";

    private static readonly string[] ForwardQueues =
        [ChatwootMessageCreated.QueueName, ChatwootConversationCreated.QueueName, ChatwootConversationStatusChanged.QueueName];

    /// <summary>The app with the webhook and, unless <paramref name="processing"/> is off, its queue function; the queues emptied.</summary>
    private async Task<TestFunctionApp> AppAsync(bool processing = true, string? accountSecret = ChatwootSends.AccountSecret, string hostJson = TestFunctionApp.DefaultHostJson)
    {
        var settings = new Dictionary<string, string?> { ["CHATWOOT_WEBHOOK_SECRET"] = accountSecret };
        if (!processing)
        {
            settings["AzureWebJobs.ProcessChatwootEvent.Disabled"] = "true";
        }

        var (storage, app) = await apps.GetAsync($"{processing}|{accountSecret}|{hostJson}", connection => TestFunctionApp.StartAsync(connection, settings: settings, hostJson: hostJson));
        connectionString = storage;
        foreach (var name in ForwardQueues.Append(ChatwootWebhook.QueueName))
        {
            var queue = Queue(name);
            await queue.CreateIfNotExistsAsync();
            await queue.ClearMessagesAsync();
        }

        return app;
    }

    /// <summary>
    /// The class's apps, one for each set of settings the tests ask for, each on an Azurite of its own (an app's queue
    /// function must not take the messages another app's test peeks), kept from test to test: starting one per test made
    /// this class the suite's slowest. Tests read the log lines written since they began.
    /// </summary>
    public sealed class Apps : IAsyncLifetime
    {
        private readonly Dictionary<string, (AzuriteFixture Storage, TestFunctionApp App)> started = new(StringComparer.Ordinal);

        public async Task<(string ConnectionString, TestFunctionApp App)> GetAsync(string key, Func<string, Task<TestFunctionApp>> start)
        {
            if (!started.TryGetValue(key, out var kept))
            {
                var storage = new AzuriteFixture();
                await storage.InitializeAsync();
                try
                {
                    kept = (storage, await start(storage.ConnectionString));
                }
                catch
                {
                    await storage.DisposeAsync();
                    throw;
                }

                started[key] = kept;
            }

            return (kept.Storage.ConnectionString, kept.App);
        }

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync()
        {
            foreach (var (storage, app) in started.Values)
            {
                await app.DisposeAsync();
                await storage.DisposeAsync();
            }
        }
    }

    private QueueClient Queue(string name) =>
        new(connectionString ?? throw new InvalidOperationException("AppAsync picks the storage first."), name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    private async Task<List<T>> PeekAsync<T>(string queue) =>
        (await Queue(queue).PeekMessagesAsync(32)).Value.Select(m => m.Body.ToObjectFromJson<T>(QueueJson.Options)!).ToList();

    private async Task<T> ForwardedAsync<T>(string queue, string deliveryId, Func<T, string> idOf)
    {
        await Eventually.HoldsAsync(async () => (await PeekAsync<T>(queue)).Any(m => idOf(m) == deliveryId), $"delivery {deliveryId} is on {queue}");
        return (await PeekAsync<T>(queue)).Single(m => idOf(m) == deliveryId);
    }

    private static async Task<ChatwootDeliveryRecord> ProcessedAsync(TestFunctionApp app, string deliveryId, string status = ChatwootDeliveryStatus.Processed)
    {
        var deliveries = app.Services.GetRequiredService<ChatwootDeliveries>();
        await Eventually.HoldsAsync(async () => (await deliveries.FindAsync(deliveryId, CancellationToken.None))?.Status == status, $"delivery {deliveryId} is {status}");
        return (await deliveries.FindAsync(deliveryId, CancellationToken.None))!;
    }

    private static async Task AcceptedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("received").GetBoolean());
    }

    private static void NothingSecretLogged(TestFunctionApp app, params string[] secrets)
    {
        foreach (var secret in secrets.Append(ChatwootSends.AccountSecret).Append(InboxSecret))
        {
            Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains(secret, StringComparison.Ordinal) || (e.Exception?.ToString().Contains(secret, StringComparison.Ordinal) ?? false));
        }
    }

    [Fact]
    public async Task A_message_signed_with_the_account_secret_is_accepted_and_forwarded_typed()
    {
        var app = await AppAsync();
        var body = ChatwootSends.Fixture("message_created_incoming");
        var deliveryId = Guid.NewGuid().ToString();

        await AcceptedAsync(await ChatwootSends.SignedAsync(app.Client, body, ChatwootSends.AccountSecret, deliveryId: deliveryId));

        var forwarded = await ForwardedAsync<ChatwootMessageCreated>(ChatwootMessageCreated.QueueName, deliveryId, m => m.Delivery.Id);
        Assert.Equal((ChatwootVerifiedBy.AccountSecret, (string?)null), (forwarded.Delivery.VerifiedBy, forwarded.Delivery.ProviderKey));
        var message = forwarded.Message;
        Assert.Equal((7781L, "incoming", false, "Still down. Can a human help?"), (message.Id, message.MessageType, message.Private, message.Content));
        Assert.Equal((42L, 12L, "pending"), (message.Conversation.DisplayId, message.Inbox.Id, message.Conversation.Status));
        Assert.Equal((901L, "contact", "Renter Rita"), (message.Sender!.Id, message.Sender.Type, message.Sender.Name));
        Assert.Equal("8d1f3c2a-6b7e-4f19-9a0d-2c5e7b1f4a63", message.Conversation.ContactInbox?.SourceId);

        var record = await ProcessedAsync(app, deliveryId);
        Assert.Equal(body, record.Body);
        Assert.Equal(("message_created", ChatwootVerifiedBy.AccountSecret, "forwarded to chatwoot-message-created"),
            (record.Row.GetString("Event"), record.Row.GetString("VerifiedBy"), record.Row.GetString("Outcome")));
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 9201 && e.Message.Contains(deliveryId, StringComparison.Ordinal));
        NothingSecretLogged(app);
    }

    [Fact]
    public async Task A_private_note_signed_with_a_recorded_inbox_secret_is_forwarded_with_the_inbox_provider()
    {
        var app = await AppAsync(accountSecret: null);
        var inboxId = ChatwootSends.NewInboxId();
        await app.Services.GetRequiredService<ChatwootWebhookKeys>().RecordInboxSecretAsync(inboxId, InboxSecret, ProviderKey);
        var body = ChatwootSends.FixtureForInbox("message_created_private_note", inboxId);
        var deliveryId = Guid.NewGuid().ToString();

        await AcceptedAsync(await ChatwootSends.SignedAsync(app.Client, body, InboxSecret, deliveryId: deliveryId));

        var forwarded = await ForwardedAsync<ChatwootMessageCreated>(ChatwootMessageCreated.QueueName, deliveryId, m => m.Delivery.Id);
        Assert.Equal((ChatwootVerifiedBy.InboxSecret, ProviderKey), (forwarded.Delivery.VerifiedBy, forwarded.Delivery.ProviderKey));
        Assert.Equal((true, "outgoing", inboxId, inboxId), (forwarded.Message.Private, forwarded.Message.MessageType, forwarded.Message.Inbox.Id, forwarded.Message.Conversation.InboxId));
        Assert.Equal((17L, "user"), (forwarded.Message.Sender!.Id, forwarded.Message.Sender.Type));
        Assert.False(forwarded.Message.ForTheBot);
        NothingSecretLogged(app);
    }

    [Fact]
    public async Task A_message_with_no_sender_is_forwarded_with_a_null_sender()
    {
        var app = await AppAsync();
        var deliveryId = Guid.NewGuid().ToString();

        await AcceptedAsync(await ChatwootSends.SignedAsync(app.Client, ChatwootSends.Fixture("message_created_sender_null"), ChatwootSends.AccountSecret, deliveryId: deliveryId));

        var forwarded = await ForwardedAsync<ChatwootMessageCreated>(ChatwootMessageCreated.QueueName, deliveryId, m => m.Delivery.Id);
        Assert.Null(forwarded.Message.Sender);
        Assert.Equal((7795L, "template"), (forwarded.Message.Id, forwarded.Message.MessageType));
    }

    [Fact]
    public async Task A_created_conversation_signed_with_its_inbox_secret_is_forwarded_to_its_queue()
    {
        var app = await AppAsync();
        var inboxId = ChatwootSends.NewInboxId();
        await app.Services.GetRequiredService<ChatwootWebhookKeys>().RecordInboxSecretAsync(inboxId, InboxSecret, ProviderKey);
        var deliveryId = Guid.NewGuid().ToString();

        await AcceptedAsync(await ChatwootSends.SignedAsync(app.Client, ChatwootSends.FixtureForInbox("conversation_created", inboxId), InboxSecret, deliveryId: deliveryId));

        var forwarded = await ForwardedAsync<ChatwootConversationCreated>(ChatwootConversationCreated.QueueName, deliveryId, m => m.Delivery.Id);
        Assert.Equal((ChatwootVerifiedBy.InboxSecret, ProviderKey), (forwarded.Delivery.VerifiedBy, forwarded.Delivery.ProviderKey));
        Assert.Equal((42L, inboxId, "pending"), (forwarded.Conversation.DisplayId, forwarded.Conversation.InboxId, forwarded.Conversation.Status));
        Assert.Equal((901L, "contact"), (forwarded.Conversation.Meta!.Sender!.Id, forwarded.Conversation.Meta.Sender.Type));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1781693920), forwarded.Conversation.CreatedAt);
        await ProcessedAsync(app, deliveryId);
        NothingSecretLogged(app);
    }

    [Fact]
    public async Task A_status_change_is_forwarded_with_the_new_status_assignee_and_team()
    {
        var app = await AppAsync();
        var deliveryId = Guid.NewGuid().ToString();

        await AcceptedAsync(await ChatwootSends.SignedAsync(app.Client, ChatwootSends.Fixture("conversation_status_changed"), ChatwootSends.AccountSecret, deliveryId: deliveryId));

        var forwarded = await ForwardedAsync<ChatwootConversationStatusChanged>(ChatwootConversationStatusChanged.QueueName, deliveryId, m => m.Delivery.Id);
        var conversation = forwarded.Conversation;
        Assert.Equal((42L, 12L, "open"), (conversation.DisplayId, conversation.InboxId, conversation.Status));
        Assert.Equal((17L, "user", "User"), (conversation.Meta!.Assignee!.Id, conversation.Meta.Assignee.Type, conversation.Meta.AssigneeType));
        Assert.Equal("provider-5f2c", conversation.Meta.Team?.Name);
        Assert.Equal(["billing", "vip"], conversation.Labels);
        Assert.Null(conversation.WaitingSince);
    }

    public static TheoryData<string> RefusedCases() =>
        ["wrong secret", "inbox secret of another inbox", "stale timestamp", "future timestamp", "no timestamp", "malformed signature", "tampered body", "no signature and no token", "wrong token"];

    [Theory]
    [MemberData(nameof(RefusedCases))]
    public async Task A_delivery_that_does_not_verify_is_refused_401_with_no_row_and_no_queue_message(string refusal)
    {
        var app = await AppAsync(processing: false);
        var mark = app.Logs.Entries.Count;
        var keys = app.Services.GetRequiredService<ChatwootWebhookKeys>();
        var inboxId = ChatwootSends.NewInboxId();
        await keys.RecordInboxSecretAsync(inboxId, InboxSecret, ProviderKey);
        var token = ChatwootWebhookKeys.NewUrlToken();
        await keys.RecordUrlTokenAsync(token, ProviderKey);
        var body = ChatwootSends.FixtureForInbox("message_created_incoming", ChatwootSends.NewInboxId());
        var deliveryId = Guid.NewGuid().ToString();
        var now = DateTimeOffset.UtcNow;
        Dictionary<string, string> Signed(string secret, DateTimeOffset? at = null) => ChatwootSends.SignedHeaders(body, secret, at ?? now, deliveryId);

        var (response, check) = refusal switch
        {
            "wrong secret" => (await ChatwootSends.SendAsync(app.Client, body, Signed("not-the-secret")), "signature"),
            "inbox secret of another inbox" => (await ChatwootSends.SendAsync(app.Client, body, Signed(InboxSecret)), "signature"),
            "stale timestamp" => (await ChatwootSends.SendAsync(app.Client, body, Signed(ChatwootSends.AccountSecret, now.AddMinutes(-6))), "timestamp"),
            "future timestamp" => (await ChatwootSends.SendAsync(app.Client, body, Signed(ChatwootSends.AccountSecret, now.AddMinutes(6))), "timestamp"),
            "no timestamp" => (await ChatwootSends.SendAsync(app.Client, body, Without(Signed(ChatwootSends.AccountSecret), ChatwootWebhook.TimestampHeader)), "timestamp"),
            "malformed signature" => (await ChatwootSends.SendAsync(app.Client, body, With(Signed(ChatwootSends.AccountSecret), ChatwootWebhook.SignatureHeader, s => s.ToUpperInvariant())), "signature"),
            "tampered body" => (await ChatwootSends.SendAsync(app.Client, body.Replace("Can a human help?", "Refund me now!!!", StringComparison.Ordinal), Signed(ChatwootSends.AccountSecret)), "signature"),
            "no signature and no token" => (await ChatwootSends.SendAsync(app.Client, body, new Dictionary<string, string> { [ChatwootWebhook.DeliveryHeader] = deliveryId }), "token"),
            "wrong token" => (await ChatwootSends.SendAsync(app.Client, body, new Dictionary<string, string> { [ChatwootWebhook.DeliveryHeader] = deliveryId }, ChatwootWebhookKeys.NewUrlToken()), "token"),
            _ => throw new ArgumentOutOfRangeException(nameof(refusal)),
        };

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(check, problem.GetProperty("check").GetString());
        Assert.Null(await app.Services.GetRequiredService<ChatwootDeliveries>().FindAsync(deliveryId, CancellationToken.None));
        Assert.Empty((await Queue(ChatwootWebhook.QueueName).PeekMessagesAsync(32)).Value);
        Assert.Single(app.Logs.Entries.Skip(mark), e => e.EventId.Id == 9200 && e.Level == LogLevel.Warning);
        NothingSecretLogged(app, token);
    }

    private static Dictionary<string, string> Without(Dictionary<string, string> headers, string name)
    {
        headers.Remove(name);
        return headers;
    }

    private static Dictionary<string, string> With(Dictionary<string, string> headers, string name, Func<string, string> change)
    {
        headers[name] = change(headers[name]);
        return headers;
    }

    [Fact]
    public async Task A_signed_delivery_without_a_delivery_id_is_refused_and_nothing_is_queued()
    {
        var app = await AppAsync(processing: false);
        var body = ChatwootSends.Fixture("message_created_incoming");

        var response = await ChatwootSends.SendAsync(app.Client, body, Without(ChatwootSends.SignedHeaders(body, ChatwootSends.AccountSecret), ChatwootWebhook.DeliveryHeader));

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("delivery", problem.GetProperty("check").GetString());
        Assert.Empty((await Queue(ChatwootWebhook.QueueName).PeekMessagesAsync(32)).Value);
    }

    /// <summary>Verified deliveries the app cannot read: not UTF-8, not one JSON document, or fields it reads of types Chatwoot never sends.</summary>
    private static readonly string[] NotEvents =
    [
        "invalid UTF-8 in a value", "invalid UTF-8 in a property name", "lone surrogate in a value", "lone surrogate in a property name", "two documents",
        "event a number", "event of 1000 characters", "id an object", "private a string", "created_at beyond year 9999", "inbox a string", "inbox.id a string",
        "sender.id a string", "conversation.status a number", "conversation_created with inbox_id a string",
    ];

    [Fact]
    public async Task A_verified_delivery_the_app_cannot_read_is_refused_400_with_no_row_and_no_queue_message()
    {
        var app = await AppAsync(processing: false);
        var mark = app.Logs.Entries.Count;
        var deliveries = app.Services.GetRequiredService<ChatwootDeliveries>();
        foreach (var name in NotEvents)
        {
            var deliveryId = Guid.NewGuid().ToString();

            var response = await ChatwootSends.SignedBytesAsync(app.Client, NotAnEvent(name), ChatwootSends.AccountSecret, deliveryId);

            var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.True("body" == problem.GetProperty("check").GetString(), $"{name}: {problem}");
            Assert.Null(await deliveries.FindAsync(deliveryId, CancellationToken.None));
        }

        Assert.Empty((await Queue(ChatwootWebhook.QueueName).PeekMessagesAsync(32)).Value);
        Assert.Equal(NotEvents.Length, app.Logs.Entries.Skip(mark).Count(e => e.EventId.Id == 9200 && e.Level == LogLevel.Warning));
        Assert.DoesNotContain(app.Logs.Entries.Skip(mark), e => e.Level >= LogLevel.Error);
        NothingSecretLogged(app);
    }

    private static byte[] NotAnEvent(string name)
    {
        var good = ChatwootSends.FixtureForInbox("message_created_incoming", 12);
        string With(Action<JsonObject> change, string fixture = "message_created_incoming")
        {
            var body = JsonNode.Parse(ChatwootSends.FixtureForInbox(fixture, 12))!.AsObject();
            change(body);
            return body.ToJsonString();
        }

        var text = name switch
        {
            "lone surrogate in a value" => good.Replace("Can a human help?", "Can a human help\\ud83d?", StringComparison.Ordinal),
            "lone surrogate in a property name" => good.Replace("\"content_type\"", "\"content\\udc00type\"", StringComparison.Ordinal),
            "two documents" => good + good,
            "event a number" => With(b => b["event"] = 5),
            "event of 1000 characters" => With(b => b["event"] = new string('e', 1000)),
            "id an object" => With(b => b["id"] = new JsonObject()),
            "private a string" => With(b => b["private"] = "no"),
            "created_at beyond year 9999" => With(b => b["created_at"] = 1e15),
            "inbox a string" => With(b => b["inbox"] = "12"),
            "inbox.id a string" => With(b => b["inbox"]!["id"] = "twelve"),
            "sender.id a string" => With(b => b["sender"]!["id"] = "rita"),
            "conversation.status a number" => With(b => b["conversation"]!["status"] = 2),
            "conversation_created with inbox_id a string" => With(b => b["inbox_id"] = "twelve", "conversation_created"),
            _ => null,
        };
        if (text is not null)
        {
            return Encoding.UTF8.GetBytes(text);
        }

        var bytes = Encoding.UTF8.GetBytes(good);
        var at = name == "invalid UTF-8 in a value" ? good.IndexOf("Still down", StringComparison.Ordinal) : good.IndexOf("\"content_type\"", StringComparison.Ordinal) + 3;
        bytes[at] = 0xc3;
        bytes[at + 1] = 0x28;
        return bytes;
    }

    [Fact]
    public async Task A_delivery_verified_by_signature_is_queued_as_one_message_with_its_body_as_signed()
    {
        var app = await AppAsync(processing: false);
        var body = ChatwootSends.Fixture("conversation_created");
        var deliveryId = Guid.NewGuid().ToString();

        await AcceptedAsync(await ChatwootSends.SignedAsync(app.Client, body, ChatwootSends.AccountSecret, deliveryId: deliveryId));

        var queued = Assert.Single(await PeekAsync<ChatwootEventMessage>(ChatwootWebhook.QueueName));
        Assert.Equal((deliveryId, "conversation_created", ChatwootVerifiedBy.AccountSecret, body), (queued.DeliveryId, queued.Event, queued.VerifiedBy, queued.Body));
        Assert.True(DateTimeOffset.UtcNow - queued.ReceivedAt < TimeSpan.FromMinutes(1));
        // One write: the processor records the row (switched off here).
        Assert.Null(await app.Services.GetRequiredService<ChatwootDeliveries>().FindAsync(deliveryId, CancellationToken.None));
    }

    [Fact]
    public async Task An_unsigned_delivery_with_a_known_url_token_is_accepted_and_known_by_the_hash_of_its_body()
    {
        // The app's own log levels: ASP.NET Core's request log (Information) prints the URL, token and all, and
        // host.json keeps Microsoft.AspNetCore at Warning.
        var app = await AppAsync(accountSecret: null, hostJson: WithTheAppsLogLevels(TestFunctionApp.DefaultHostJson));
        var token = ChatwootWebhookKeys.NewUrlToken();
        await app.Services.GetRequiredService<ChatwootWebhookKeys>().RecordUrlTokenAsync(token, ProviderKey);
        var inboxId = ChatwootSends.NewInboxId();
        await OwnsInboxAsync(app, ProviderKey, inboxId);
        var body = ChatwootSends.FixtureForInbox("message_created_incoming", inboxId);
        var deliveryId = "sha256-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));

        await AcceptedAsync(await ChatwootSends.SendAsync(app.Client, body, new Dictionary<string, string>(), token));

        var forwarded = await ForwardedAsync<ChatwootMessageCreated>(ChatwootMessageCreated.QueueName, deliveryId, m => m.Delivery.Id);
        Assert.Equal((ChatwootVerifiedBy.UrlToken, ProviderKey), (forwarded.Delivery.VerifiedBy, forwarded.Delivery.ProviderKey));
        Assert.Equal(7781L, forwarded.Message.Id);
        Assert.Equal(ProviderKey, (await ProcessedAsync(app, deliveryId)).Row.GetString("ProviderKey"));
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 9201 && e.Message.Contains(deliveryId, StringComparison.Ordinal));
        NothingSecretLogged(app, token);
    }

    [Fact]
    public async Task An_unsigned_delivery_naming_an_inbox_that_signs_is_refused_even_with_a_known_url_token()
    {
        var app = await AppAsync(accountSecret: null);
        var keys = app.Services.GetRequiredService<ChatwootWebhookKeys>();
        var token = ChatwootWebhookKeys.NewUrlToken();
        await keys.RecordUrlTokenAsync(token, ProviderKey);
        var inboxId = ChatwootSends.NewInboxId();
        await keys.RecordInboxSecretAsync(inboxId, InboxSecret, ProviderKey);
        var body = ChatwootSends.FixtureForInbox("message_created_incoming", inboxId);

        // The signature stripped off a delivery of a 4.12+ server: the token in the URL must not stand in for it.
        var refused = await ChatwootSends.SendAsync(app.Client, body, new Dictionary<string, string>(), token);

        var problem = await ApiAssert.ProblemAsync(refused, System.Net.HttpStatusCode.Unauthorized);
        Assert.Equal("signature", problem.GetProperty("check").GetString());
    }

    [Fact]
    public async Task A_url_token_does_not_let_in_a_delivery_for_another_providers_inbox()
    {
        var app = await AppAsync(accountSecret: null);
        var token = ChatwootWebhookKeys.NewUrlToken();
        await app.Services.GetRequiredService<ChatwootWebhookKeys>().RecordUrlTokenAsync(token, ProviderKey);
        await OwnsInboxAsync(app, ProviderKey, ChatwootSends.NewInboxId());
        var othersInbox = ChatwootSends.NewInboxId();
        await OwnsInboxAsync(app, "ed25519:someone-else", othersInbox);

        var refused = await ChatwootSends.SendAsync(app.Client, ChatwootSends.FixtureForInbox("message_created_incoming", othersInbox), new Dictionary<string, string>(), token);

        var problem = await ApiAssert.ProblemAsync(refused, System.Net.HttpStatusCode.Unauthorized);
        Assert.Equal("token", problem.GetProperty("check").GetString());
    }

    /// <summary>Records the inbox as the provider's, as the onboarding workflow does when it creates it.</summary>
    private static Task OwnsInboxAsync(TestFunctionApp app, string providerKey, long inboxId) =>
        app.Services.GetRequiredService<Functions.Chatwoot.Onboarding.ChatwootSupportStore>().RecordAsync(providerKey, row => row["InboxId"] = inboxId, CancellationToken.None);

    private static string WithTheAppsLogLevels(string hostJson)
    {
        var app = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "host.json")))!;
        var test = JsonNode.Parse(hostJson)!.AsObject();
        test["logging"] = app["logging"]!.DeepClone();
        return test.ToJsonString();
    }

    [Fact]
    public async Task The_same_delivery_twice_is_forwarded_once()
    {
        var app = await AppAsync();
        var body = ChatwootSends.Fixture("message_created_incoming");
        var deliveryId = Guid.NewGuid().ToString();

        // The second carries a later timestamp, as a repeat would; both verify, both are acknowledged.
        await AcceptedAsync(await ChatwootSends.SignedAsync(app.Client, body, ChatwootSends.AccountSecret, deliveryId: deliveryId));
        await AcceptedAsync(await ChatwootSends.SignedAsync(app.Client, body, ChatwootSends.AccountSecret, DateTimeOffset.UtcNow.AddSeconds(1), deliveryId));

        await ProcessedAsync(app, deliveryId);
        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id is 9211 or 9212 && e.Message.Contains(deliveryId, StringComparison.Ordinal)), "the repeat is recognised");
        Assert.Single(await PeekAsync<ChatwootMessageCreated>(ChatwootMessageCreated.QueueName), m => m.Delivery.Id == deliveryId);
        Assert.Single(app.Logs.Entries, e => e.EventId.Id == 9210 && e.Message.Contains(deliveryId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_event_is_recorded_acknowledged_and_ignored_and_its_redelivery_is_skipped()
    {
        var app = await AppAsync();
        var mark = app.Logs.Entries.Count;
        var body = ChatwootSends.Fixture("conversation_typing_on");
        var deliveryId = Guid.NewGuid().ToString();

        await AcceptedAsync(await ChatwootSends.SignedAsync(app.Client, body, ChatwootSends.AccountSecret, deliveryId: deliveryId));
        var record = await ProcessedAsync(app, deliveryId, ChatwootDeliveryStatus.Ignored);
        await AcceptedAsync(await ChatwootSends.SignedAsync(app.Client, body, ChatwootSends.AccountSecret, deliveryId: deliveryId));
        await Eventually.HoldsAsync(() => app.Logs.Entries.Any(e => e.EventId.Id == 9211 && e.Message.Contains(deliveryId, StringComparison.Ordinal)), "the redelivery is skipped");

        Assert.Equal(("conversation_typing_on", "conversation_typing_on has no consumer", body), (record.Row.GetString("Event"), record.Row.GetString("Outcome"), record.Body));
        foreach (var queue in ForwardQueues)
        {
            Assert.Empty((await Queue(queue).PeekMessagesAsync(32)).Value);
        }

        Assert.DoesNotContain(app.Logs.Entries.Skip(mark), e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task A_message_too_large_for_a_queue_message_is_recorded_whole_and_forwarded_without_its_content()
    {
        var app = await AppAsync();
        var content = string.Concat(Enumerable.Repeat("The disk is full again. ", 6_000));
        var body = ChatwootSends.FixtureForInbox("message_created_incoming", 12, b => b["content"] = content);
        var deliveryId = Guid.NewGuid().ToString();

        await AcceptedAsync(await ChatwootSends.SignedAsync(app.Client, body, ChatwootSends.AccountSecret, deliveryId: deliveryId));

        var forwarded = await ForwardedAsync<ChatwootMessageCreated>(ChatwootMessageCreated.QueueName, deliveryId, m => m.Delivery.Id);
        Assert.True(forwarded.ContentOmitted);
        Assert.Null(forwarded.Message.Content);
        Assert.Equal((7781L, 42L), (forwarded.Message.Id, forwarded.Message.Conversation.DisplayId));
        var record = await ProcessedAsync(app, deliveryId);
        Assert.Equal(body, record.Body);
        Assert.Equal(content, Assert.IsType<ChatwootMessageEvent>(ChatwootPayloads.Parse(record.Body)).Message.Content);
    }

    [Fact]
    public async Task A_delivery_larger_than_a_row_holds_is_refused_413()
    {
        var app = await AppAsync(processing: false);
        var body = ChatwootSends.FixtureForInbox("message_created_incoming", 12, b => b["content"] = new string('x', ChatwootDeliveries.MaxBodyBytes));

        var response = await ChatwootSends.SignedAsync(app.Client, body, ChatwootSends.AccountSecret);

        Assert.Equal("size", (await ApiAssert.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge)).GetProperty("check").GetString());
        Assert.Empty((await Queue(ChatwootWebhook.QueueName).PeekMessagesAsync(32)).Value);
    }
}
