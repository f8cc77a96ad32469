using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using DecentCloud.Functions.Marketplace.Accounts;
using DecentCloud.Shared.Signing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Marketplace;

public sealed class AccountTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    // Produced here with `ssh-keygen -t ed25519 -N "" -C alice@laptop -f k` (repeated until the fingerprint held a '/'),
    // then `ssh-keygen -lf k.pub` printed: 256 SHA256:eM2HDRc3XUBJXwNJD3Ni6wrDKsooOkwcqaCf26b7/Dc alice@laptop (ED25519)
    private const string Ed25519Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM4SmLjN+5JbpBnwySSw+qstvbT+B1vz4L3vuwXZ2/hR alice@laptop";
    private const string Ed25519Fingerprint = "SHA256:eM2HDRc3XUBJXwNJD3Ni6wrDKsooOkwcqaCf26b7/Dc";

    // `ssh-keygen -t ecdsa -b 256 -N "" -C ec -f r`; `ssh-keygen -lf r.pub`: 256 SHA256:bvE3eTDDbQZ/SogNhny6j0ckmoIwRXCGs0rx+4dvydk ec (ECDSA)
    private const string EcdsaKey = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLMJMEuKnnk0VMZTc3C/RY6oXOgBlDx1wrigkzPUnpE1NQ6C3GYtT2BiLbUXNVdVt5fED2zDLA81IH0EE6Qkejs= ec";
    private const string EcdsaFingerprint = "SHA256:bvE3eTDDbQZ/SogNhny6j0ckmoIwRXCGs0rx+4dvydk";

    // `ssh-keygen -t rsa -b 2048 -N "" -C rsa -f rs`; `ssh-keygen -lf rs.pub`: 2048 SHA256:6YZqHmeKnSsQL1drMOWQVDsfFdNMqkoz6epfmBPMxxk rsa (RSA)
    private const string RsaKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC57RDnvlMKvk3rZiItXDsUoLaHnzjrH88POOqIqd3KNvgRlmDC7RY7Y9Oc8TKNr8hHqOqqOrdlNkRGUv7xlh2GN3GlQl3PI5GYVwHILj8z8I42n5kY7xlWyKJJhkf53G2cVMH2xmeFc3zM0XnMwezZuKjZG0uegHdrY1E/NbyIR/taqdZrmc1Hbi2xtjMR/Bpf7qM423ZweRnChmuF4KApuEZwjMaxekLu/X/jQpXD36EjTmmf9YFDGn9FnI6qcB13c57qkMT1tFExQaEBU/Mp8dRyFlNvCScEebQzd8gMY0OpHIWFgvb7Bw/dWQkjcVelFI7t4EIYWrOr2YD+H00n rsa";
    private const string RsaFingerprint = "SHA256:6YZqHmeKnSsQL1drMOWQVDsfFdNMqkoz6epfmBPMxxk";

    private readonly Ed25519phKey user = Ed25519phKey.Generate();
    private readonly Ed25519phKey stranger = Ed25519phKey.Generate();
    private readonly TestFunctionApp app = fixture.App;

    private TableClient Accounts => app.Services.GetRequiredService<AccountStore>().Table;

    private static BillingSettings Billing(string? legalName = "Alice Example GmbH") =>
        new(legalName, "Hauptstrasse 1", null, "Berlin", "10115", "DE", "DE123456789", "invoices@alice.example");

    private async Task<HttpResponseMessage> SendAsync(Ed25519phKey signer, HttpMethod method, string path, object? body = null)
    {
        using var client = app.SignedBy(signer);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await client.SendAsync(request);
    }

    private async Task<T?> RowAsync<T>(string pubkey, string rowKey)
        where T : class, ITableEntity
    {
        await Accounts.CreateIfNotExistsAsync();
        var row = await Accounts.GetEntityIfExistsAsync<T>(pubkey, rowKey);
        return row.HasValue ? row.Value : null;
    }

    private async Task<int> RowCountAsync(string pubkey)
    {
        await Accounts.CreateIfNotExistsAsync();
        var count = 0;
        await foreach (var _ in Accounts.QueryAsync<TableEntity>(e => e.PartitionKey == pubkey))
        {
            count++;
        }

        return count;
    }

    [Fact]
    public async Task The_user_creates_reads_and_updates_its_account_and_cannot_set_email_verified()
    {
        var created = await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}", new { contactEmail = "alice@alice.example", emailVerified = true });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var read = await (await SendAsync(user, HttpMethod.Get, $"api/v1/accounts/{user.PublicKeyHex}")).Content.ReadFromJsonAsync<AccountView>();
        Assert.Equal(user.PublicKeyHex, read!.PublicKey);
        Assert.Equal("alice@alice.example", read.ContactEmail);
        Assert.False(read.EmailVerified);

        // Verified by hand (as the notification feature will); a new email resets it.
        var row = await RowAsync<AccountEntity>(user.PublicKeyHex, AccountEntity.AccountRowKey);
        row!.EmailVerified = true;
        await Accounts.UpdateEntityAsync(row, row.ETag);

        var updated = await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}", new { contactEmail = "alice@new.example" });

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var after = await RowAsync<AccountEntity>(user.PublicKeyHex, AccountEntity.AccountRowKey);
        Assert.Equal("alice@new.example", after!.ContactEmail);
        Assert.False(after.EmailVerified);
        Assert.Equal(read.CreatedAt, after.CreatedAt);
    }

    [Fact]
    public async Task An_account_with_a_bad_email_is_a_400_naming_the_field_and_writes_nothing()
    {
        var response = await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}", new { contactEmail = "not an email" });

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("contactEmail", out _));
        Assert.Equal(0, await RowCountAsync(user.PublicKeyHex));
    }

    [Fact]
    public async Task Another_key_cannot_read_or_change_the_account_and_it_stays_unchanged()
    {
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}", new { contactEmail = "alice@alice.example" })).StatusCode);
        var before = await RowAsync<AccountEntity>(user.PublicKeyHex, AccountEntity.AccountRowKey);

        await ApiAssert.ProblemAsync(await SendAsync(stranger, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}", new { contactEmail = "mallory@evil.example" }), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await SendAsync(stranger, HttpMethod.Get, $"api/v1/accounts/{user.PublicKeyHex}"), HttpStatusCode.Forbidden);

        var after = await RowAsync<AccountEntity>(user.PublicKeyHex, AccountEntity.AccountRowKey);
        Assert.Equal(before!.ETag, after!.ETag);
        Assert.Equal("alice@alice.example", after.ContactEmail);
        Assert.Equal(0, await RowCountAsync(stranger.PublicKeyHex));
    }

    [Fact]
    public async Task Reading_an_account_never_created_is_a_404_problem()
    {
        await ApiAssert.ProblemAsync(await SendAsync(user, HttpMethod.Get, $"api/v1/accounts/{user.PublicKeyHex}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Billing_settings_are_saved_read_back_and_replaced()
    {
        var saved = await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}/billing", Billing() with { Line2 = "  " });

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var read = await (await SendAsync(user, HttpMethod.Get, $"api/v1/accounts/{user.PublicKeyHex}/billing")).Content.ReadFromJsonAsync<BillingView>();
        Assert.Equal("Alice Example GmbH", read!.LegalName);
        Assert.Equal("DE", read.Country);
        Assert.Equal("DE123456789", read.VatId);
        Assert.Equal("invoices@alice.example", read.InvoiceEmail);
        Assert.Null(read.Line2);

        var replaced = await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}/billing", Billing("Alice Example AG") with { Country = "CH", VatId = null, InvoiceEmail = null });

        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var row = await RowAsync<BillingEntity>(user.PublicKeyHex, BillingEntity.BillingRowKey);
        Assert.Equal("Alice Example AG", row!.LegalName);
        Assert.Equal("CH", row.Country);
        Assert.Null(row.VatId);
        Assert.Null(row.InvoiceEmail);
    }

    [Fact]
    public async Task Billing_without_a_legal_name_is_a_400_naming_the_field_and_writes_nothing()
    {
        var response = await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}/billing", Billing(legalName: null));

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("legalName", out _));
        Assert.Null(await RowAsync<BillingEntity>(user.PublicKeyHex, BillingEntity.BillingRowKey));
    }

    [Theory]
    [InlineData("XX")]
    [InlineData("de")]
    [InlineData("DEU")]
    public async Task Billing_with_a_bad_country_is_a_400_naming_the_field_and_writes_nothing(string country)
    {
        var response = await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}/billing", Billing() with { Country = country });

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("country", out _));
        Assert.Null(await RowAsync<BillingEntity>(user.PublicKeyHex, BillingEntity.BillingRowKey));
    }

    [Fact]
    public async Task Billing_with_a_bad_vat_id_and_invoice_email_is_a_400_naming_each_field()
    {
        var response = await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}/billing", Billing() with { VatId = "123", InvoiceEmail = "nope" });

        var errors = (await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("vatId", out _));
        Assert.True(errors.TryGetProperty("invoiceEmail", out _));
        Assert.Null(await RowAsync<BillingEntity>(user.PublicKeyHex, BillingEntity.BillingRowKey));
    }

    [Fact]
    public async Task Unsigned_billing_is_a_401_and_writes_nothing()
    {
        var response = await app.Client.PutAsJsonAsync($"api/v1/accounts/{user.PublicKeyHex}/billing", Billing());

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(0, await RowCountAsync(user.PublicKeyHex));
    }

    [Fact]
    public async Task Billing_with_a_bad_signature_is_a_401_and_writes_nothing()
    {
        var path = $"/api/v1/accounts/{user.PublicKeyHex}/billing";
        var body = JsonSerializer.Serialize(Billing(), JsonSerializerOptions.Web);
        var request = new HttpRequestMessage(HttpMethod.Put, path.TrimStart('/')) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        // Signed by the stranger, presented as the user's key.
        var headers = RequestSigner.CreateHeaders(stranger, DateTimeOffset.UtcNow, Guid.NewGuid(), "PUT", path, Encoding.UTF8.GetBytes(body));
        headers.ApplyTo(request.Headers);
        request.Headers.Remove(SignatureHeaders.PublicKeyHeader);
        request.Headers.Add(SignatureHeaders.PublicKeyHeader, user.PublicKeyHex);

        var response = await app.Client.SendAsync(request);

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(0, await RowCountAsync(user.PublicKeyHex));
    }

    [Fact]
    public async Task Another_key_cannot_read_or_change_billing_and_it_stays_unchanged()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}/billing", Billing())).StatusCode);
        var before = await RowAsync<BillingEntity>(user.PublicKeyHex, BillingEntity.BillingRowKey);

        await ApiAssert.ProblemAsync(await SendAsync(stranger, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}/billing", Billing("Hijacked")), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await SendAsync(stranger, HttpMethod.Get, $"api/v1/accounts/{user.PublicKeyHex}/billing"), HttpStatusCode.Forbidden);

        var after = await RowAsync<BillingEntity>(user.PublicKeyHex, BillingEntity.BillingRowKey);
        Assert.Equal(before!.ETag, after!.ETag);
        Assert.Equal("Alice Example GmbH", after.LegalName);
    }

    [Fact]
    public async Task Ssh_keys_are_added_listed_and_deleted_by_their_openssh_fingerprint()
    {
        var added = await SendAsync(user, HttpMethod.Post, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys", new { publicKey = Ed25519Key });

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var view = await added.Content.ReadFromJsonAsync<SshKeyView>();
        Assert.Equal(Ed25519Fingerprint, view!.Fingerprint);
        Assert.Equal("ssh-ed25519", view.KeyType);
        Assert.Equal("alice@laptop", view.Comment);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(user, HttpMethod.Post, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys", new { publicKey = EcdsaKey })).StatusCode);

        var listed = await (await SendAsync(user, HttpMethod.Get, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys")).Content.ReadFromJsonAsync<List<SshKeyView>>();
        Assert.Equal([EcdsaFingerprint, Ed25519Fingerprint], listed!.Select(k => k.Fingerprint).Order(StringComparer.Ordinal));

        var deleted = await SendAsync(user, HttpMethod.Delete, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys/{Uri.EscapeDataString(Ed25519Fingerprint)}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var remaining = await (await SendAsync(user, HttpMethod.Get, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys")).Content.ReadFromJsonAsync<List<SshKeyView>>();
        Assert.Equal(EcdsaFingerprint, Assert.Single(remaining!).Fingerprint);

        await ApiAssert.ProblemAsync(
            await SendAsync(user, HttpMethod.Delete, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys/{Uri.EscapeDataString(Ed25519Fingerprint)}"),
            HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Adding_the_same_ssh_key_twice_is_a_409()
    {
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(user, HttpMethod.Post, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys", new { publicKey = Ed25519Key })).StatusCode);

        await ApiAssert.ProblemAsync(await SendAsync(user, HttpMethod.Post, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys", new { publicKey = Ed25519Key }), HttpStatusCode.Conflict);
        Assert.Equal(1, await RowCountAsync(user.PublicKeyHex));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ssh-dss AAAAB3NzaC1kc3MAAACBAP")]
    [InlineData("ssh-ed25519 not-base64!!")]
    [InlineData("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM4S")]
    [InlineData("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIM4SmLjN+5JbpBnwySSw+qstvbT+B1vz4L3vuwXZ2/hR")]
    public async Task A_malformed_ssh_key_is_a_400_naming_the_field_and_writes_nothing(string line)
    {
        var response = await SendAsync(user, HttpMethod.Post, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys", new { publicKey = line });

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("publicKey", out _));
        Assert.Equal(0, await RowCountAsync(user.PublicKeyHex));
    }

    [Fact]
    public async Task Another_key_cannot_add_list_or_delete_ssh_keys()
    {
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(user, HttpMethod.Post, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys", new { publicKey = Ed25519Key })).StatusCode);

        await ApiAssert.ProblemAsync(await SendAsync(stranger, HttpMethod.Post, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys", new { publicKey = EcdsaKey }), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(await SendAsync(stranger, HttpMethod.Get, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys"), HttpStatusCode.Forbidden);
        await ApiAssert.ProblemAsync(
            await SendAsync(stranger, HttpMethod.Delete, $"api/v1/accounts/{user.PublicKeyHex}/ssh-keys/{Uri.EscapeDataString(Ed25519Fingerprint)}"),
            HttpStatusCode.Forbidden);
        Assert.Equal(1, await RowCountAsync(user.PublicKeyHex));
    }

    [Fact]
    public void The_fingerprint_is_the_one_ssh_keygen_prints()
    {
        Assert.Equal(Ed25519Fingerprint, SshPublicKey.TryParse(Ed25519Key, out _)!.Fingerprint);
        Assert.Equal(EcdsaFingerprint, SshPublicKey.TryParse(EcdsaKey, out _)!.Fingerprint);
        Assert.Equal(RsaFingerprint, SshPublicKey.TryParse(RsaKey, out _)!.Fingerprint);
    }

    [Fact]
    public void The_country_list_holds_the_249_assigned_codes()
    {
        Assert.Equal(249, Countries.Count);
        Assert.True(Countries.IsAlpha2("GB"));
        Assert.False(Countries.IsAlpha2("UK"));
    }

    [Fact]
    public async Task A_billing_replace_with_a_stale_etag_is_refused_and_the_newer_settings_stay()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}/billing", Billing())).StatusCode);
        var store = app.Services.GetRequiredService<AccountStore>();
        var stale = await store.FindAsync<BillingEntity>(user.PublicKeyHex, BillingEntity.BillingRowKey, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(user, HttpMethod.Put, $"api/v1/accounts/{user.PublicKeyHex}/billing", Billing("Newer Name"))).StatusCode);

        stale!.LegalName = "Stale Name";
        Assert.False(await store.TryReplaceAsync(stale, CancellationToken.None));
        Assert.Equal("Newer Name", (await RowAsync<BillingEntity>(user.PublicKeyHex, BillingEntity.BillingRowKey))!.LegalName);
    }
}
