using System.Diagnostics;
using System.Text.Json;
using DecentCloud.Testing;
using DecentCloud.Tests.Support;

namespace DecentCloud.Tests.Deploy;

/// <summary>
/// What Azure Functions is told about the app: the functions.metadata the Worker SDK writes from the functions' attributes
/// (the one list of triggers the host, locally and in Azure, runs), checked against the list here; and the package
/// <c>dotnet publish</c> makes.
/// </summary>
public sealed class FunctionMetadataTests
{
    /// <summary>Every function of the app with its trigger. A change to a trigger is a change to this list.</summary>
    private static readonly Dictionary<string, Trigger> Expected = new(StringComparer.Ordinal)
    {
        ["AcceptContract"] = Http("POST", "v1/contracts/{id}/accept", "Anonymous"),
        ["AddSshKey"] = Http("POST", "v1/accounts/{pubkey}/ssh-keys", "Anonymous"),
        ["AddSupportAgent"] = Http("POST", "v1/providers/{pubkey}/support/agents", "Anonymous"),
        ["ApproveRefund"] = Http("POST", "v1/admin/contracts/{id}/refunds/{sessionId}/approve", "Admin"),
        ["CancelContract"] = Http("POST", "v1/contracts/{id}/cancel", "Anonymous"),
        ["ChatwootOnboarding"] = Orchestrator(),
        ["ChatwootWebhook"] = Http("POST", "v1/webhooks/chatwoot", "Anonymous"),
        ["ContractLifecycle"] = Orchestrator(),
        ["CreateAgentDelegation"] = Http("POST", "v1/providers/{pubkey}/agent-delegations", "Anonymous"),
        ["CreateCategory"] = Activity(),
        ["CreateInbox"] = Activity(),
        ["CreateOffering"] = Http("POST", "v1/providers/{pubkey}/offerings", "Anonymous"),
        ["CreatePortal"] = Activity(),
        ["CreateRoutingRule"] = Activity(),
        ["CreateTeam"] = Activity(),
        ["DeletePoisonMessage"] = Http("DELETE", "v1/admin/queues/{queue}/poison/{messageId}", "Admin"),
        ["DeleteSshKey"] = Http("DELETE", "v1/accounts/{pubkey}/ssh-keys/{fingerprint}", "Anonymous"),
        ["ExportLedger"] = Http("GET", "v1/admin/ledger.csv", "Admin"),
        ["ExpireContracts"] = Timer("0 */5 * * * *"),
        ["GetAccount"] = Http("GET", "v1/accounts/{pubkey}", "Anonymous"),
        ["GetBilling"] = Http("GET", "v1/accounts/{pubkey}/billing", "Anonymous"),
        ["GetContract"] = Http("GET", "v1/contracts/{id}", "Anonymous"),
        ["GetContractCredentials"] = Http("GET", "v1/contracts/{id}/credentials", "Anonymous"),
        ["GetContractHealth"] = Http("GET", "v1/contracts/{id}/health", "Anonymous"),
        ["GetCreditNote"] = Http("GET", "v1/contracts/{id}/credit-notes/{number}", "Anonymous"),
        ["GetCreditNoteAsAdmin"] = Http("GET", "v1/admin/contracts/{id}/credit-notes/{number}", "Admin"),
        ["GetEarnings"] = Http("GET", "v1/providers/{pubkey}/earnings", "Anonymous"),
        ["GetInvoice"] = Http("GET", "v1/contracts/{id}/invoice", "Anonymous"),
        ["GetInvoiceAsAdmin"] = Http("GET", "v1/admin/contracts/{id}/invoice", "Admin"),
        ["GetInvoiceMetadata"] = Http("GET", "v1/contracts/{id}/invoice/metadata", "Anonymous"),
        ["GetInvoiceMetadataAsAdmin"] = Http("GET", "v1/admin/contracts/{id}/invoice/metadata", "Admin"),
        ["GetLedgerReconciliation"] = Http("GET", "v1/admin/ledger/reconciliation", "Admin"),
        ["GetOffering"] = Http("GET", "v1/providers/{pubkey}/offerings/{id}", "Anonymous"),
        ["GetOrchestration"] = Http("GET", "v1/admin/orchestrations/{instanceId}", "Admin"),
        ["GetProvider"] = Http("GET", "v1/providers/{pubkey}", "Anonymous"),
        ["GetProviderSupport"] = Http("GET", "v1/providers/{pubkey}/support", "Anonymous"),
        ["GetProviderSupportAsAdmin"] = Http("GET", "v1/admin/providers/{pubkey}/support", "Admin"),
        ["GetProviderUptime"] = Http("GET", "v1/providers/{pubkey}/uptime", "Anonymous"),
        ["HealthCheck"] = Http("GET", "health", "Anonymous"),
        ["HideOffering"] = Http("POST", "v1/providers/{pubkey}/offerings/{id}/hide", "Anonymous"),
        ["IcpayWebhook"] = Http("POST", "v1/webhooks/icpay", "Anonymous"),
        ["IssueInvoice"] = Queue("billing-invoices"),
        ["ListAdminActions"] = Http("GET", "v1/admin/actions", "Admin"),
        ["ListAgentDelegations"] = Http("GET", "v1/providers/{pubkey}/agent-delegations", "Anonymous"),
        ["ListOrchestrations"] = Http("GET", "v1/admin/orchestrations", "Admin"),
        ["ListPaymentReleases"] = Http("GET", "v1/admin/payment-releases", "Admin"),
        ["ListPayouts"] = Http("GET", "v1/admin/payouts", "Admin"),
        ["ListPendingWork"] = Http("GET", "v1/providers/{pubkey}/provisioning/pending", "Anonymous"),
        ["ListPoisonMessages"] = Http("GET", "v1/admin/queues/{queue}/poison", "Admin"),
        ["ListProviderAgents"] = Http("GET", "v1/providers/{pubkey}/agents", "Anonymous"),
        ["ListQueues"] = Http("GET", "v1/admin/queues", "Admin"),
        ["ListRefunds"] = Http("GET", "v1/admin/refunds", "Admin"),
        ["ListSshKeys"] = Http("GET", "v1/accounts/{pubkey}/ssh-keys", "Anonymous"),
        ["ListSupportAgents"] = Http("GET", "v1/providers/{pubkey}/support/agents", "Anonymous"),
        ["MoveContractState"] = Activity(),
        ["LockContract"] = Http("POST", "v1/providers/{pubkey}/contracts/{id}/lock", "Anonymous"),
        ["OnboardProvider"] = Http("POST", "v1/providers", "Anonymous"),
        ["PayRefunds"] = Timer("30 */5 * * * *"),
        ["PollStripeEvents"] = Timer("45 */5 * * * *"),
        ["ProbeContracts"] = Timer("20 */5 * * * *"),
        ["ProcessChatwootEvent"] = Queue("chatwoot-events"),
        ["ProcessIcpayEvent"] = Queue("icpay-events"),
        ["ProcessStripeEvent"] = Queue("stripe-events"),
        ["PurgeExpiredNonces"] = Timer("0 */10 * * * *"),
        ["PutAccount"] = Http("PUT", "v1/accounts/{pubkey}", "Anonymous"),
        ["PutBilling"] = Http("PUT", "v1/accounts/{pubkey}/billing", "Anonymous"),
        ["ReadContractState"] = Activity(),
        ["ReconcileInstances"] = Http("POST", "v1/providers/{pubkey}/reconcile", "Anonymous"),
        ["RecordHeartbeat"] = Http("POST", "v1/providers/{pubkey}/heartbeat", "Anonymous"),
        ["ReconcileLedger"] = Timer("0 30 2 * * *"),
        ["RecordPayout"] = Http("POST", "v1/admin/payouts", "Admin"),
        ["RedriveIcpayEvents"] = Timer("25 */5 * * * *"),
        ["RedriveStripeEvents"] = Timer("15 */5 * * * *"),
        ["RejectContract"] = Http("POST", "v1/contracts/{id}/reject", "Anonymous"),
        ["ReleasePayments"] = Timer("0 7 * * * *"),
        ["RemoveSupportAgent"] = Http("DELETE", "v1/providers/{pubkey}/support/agents/{userId}", "Anonymous"),
        ["RentContract"] = Http("POST", "v1/contracts", "Anonymous"),
        ["ReplayPoisonMessage"] = Http("POST", "v1/admin/queues/{queue}/poison/{messageId}/replay", "Admin"),
        ["ReplayPoisonMessages"] = Http("POST", "v1/admin/queues/{queue}/poison/replay", "Admin"),
        ["RequestContractTermination"] = Activity(),
        ["ReportHealth"] = Http("POST", "v1/providers/{pubkey}/contracts/{id}/health", "Anonymous"),
        ["ReportProvisioning"] = Http("POST", "v1/providers/{pubkey}/contracts/{id}/provisioning", "Anonymous"),
        ["ReportTerminated"] = Http("POST", "v1/providers/{pubkey}/contracts/{id}/terminated", "Anonymous"),
        ["RestartOrchestration"] = Http("POST", "v1/admin/orchestrations/{instanceId}/restart", "Admin"),
        ["RetryProviderSupport"] = Http("POST", "v1/admin/providers/{pubkey}/support/retry", "Admin"),
        ["RevokeAgentDelegation"] = Http("DELETE", "v1/providers/{pubkey}/agent-delegations/{agentKey}", "Anonymous"),
        ["SearchOfferings"] = Http("GET", "v1/offerings", "Anonymous"),
        ["SendReceipt"] = Queue("billing-receipts"),
        ["ShowOffering"] = Http("POST", "v1/providers/{pubkey}/offerings/{id}/show", "Anonymous"),
        ["SignalContractLifecycle"] = Queue("contract-lifecycle"),
        ["StartChatwootOnboarding"] = Queue("chatwoot-provider-onboarded"),
        ["StartCheckout"] = Http("POST", "v1/contracts/{id}/checkout", "Anonymous"),
        ["StartIcpayCheckout"] = Http("POST", "v1/contracts/{id}/checkout/icpay", "Anonymous"),
        ["StripeWebhook"] = Http("POST", "v1/webhooks/stripe", "Anonymous"),
        ["SweepContractLifecycles"] = Timer("40 */5 * * * *"),
        ["TerminateOrchestration"] = Http("POST", "v1/admin/orchestrations/{instanceId}/terminate", "Admin"),
        ["UnlockContract"] = Http("DELETE", "v1/providers/{pubkey}/contracts/{id}/lock", "Anonymous"),
        ["UpdateOffering"] = Http("PUT", "v1/providers/{pubkey}/offerings/{id}", "Anonymous"),
        ["UpdateProvider"] = Http("PUT", "v1/providers/{pubkey}", "Anonymous"),
        ["WatchPoisonQueues"] = Timer("50 */5 * * * *"),
    };

    private static Trigger Http(string method, string route, string level) => new("httpTrigger", method, route, level, null, null);

    private static Trigger Queue(string queue) => new("queueTrigger", null, null, null, queue, null);

    private static Trigger Timer(string schedule) => new("timerTrigger", null, null, null, null, schedule);

    private static Trigger Orchestrator() => new("orchestrationTrigger", null, null, null, null, null);

    private static Trigger Activity() => new("activityTrigger", null, null, null, null, null);

    private static Dictionary<string, Trigger> Declared(string appDirectory)
    {
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(appDirectory, "functions.metadata")));
        var declared = new Dictionary<string, Trigger>(StringComparer.Ordinal);
        foreach (var function in metadata.RootElement.EnumerateArray())
        {
            var trigger = function.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
            string? Text(string name) => trigger.TryGetProperty(name, out var value) ? value.GetString() : null;
            var methods = trigger.TryGetProperty("methods", out var list) ? list.EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).ToList() : [];
            declared[function.GetProperty("name").GetString()!] = new Trigger(
                trigger.GetProperty("type").GetString()!,
                methods.Count == 0 ? null : string.Join(",", methods),
                Text("route"),
                Text("authLevel"),
                Text("queueName"),
                Text("schedule"));
        }

        return declared;
    }

    [Fact]
    public void Functions_metadata_declares_every_function_with_its_trigger_route_methods_level_queue_and_schedule()
    {
        var declared = Declared(TestFunctionApp.AppDirectory);

        var differences = Expected.Keys.Union(declared.Keys).Order(StringComparer.Ordinal)
            .Where(name => !Equals(Expected.GetValueOrDefault(name), declared.GetValueOrDefault(name)))
            .Select(name => $"{name}: expected {Expected.GetValueOrDefault(name)?.ToString() ?? "no such function"}, declared {declared.GetValueOrDefault(name)?.ToString() ?? "no such function"}")
            .ToList();
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [Fact]
    public void Docs_api_md_lists_every_http_function_with_its_method_route_and_name()
    {
        var api = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "api.md"));
        var rows = api.Split('\n').Where(line => line.StartsWith("| `", StringComparison.Ordinal)).ToList();

        var missing = Declared(TestFunctionApp.AppDirectory)
            .Where(f => f.Value.Type == "httpTrigger")
            .Where(f => !rows.Any(row => row.StartsWith($"| `{f.Value.Methods} /api/{f.Value.Route}`", StringComparison.Ordinal) && row.Contains($"| {f.Key} |", StringComparison.Ordinal)))
            .Select(f => $"{f.Key}: {f.Value.Methods} /api/{f.Value.Route}")
            .ToList();
        Assert.True(missing.Count == 0, "docs/api.md has no row for:\n" + string.Join("\n", missing));
    }

    [Fact]
    public async Task Dotnet_publish_gives_the_package_azure_functions_deploys()
    {
        var output = Directory.CreateTempSubdirectory("dc-publish-");
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot.Path };
            foreach (var argument in new[] { "publish", "functions", "-c", "Release", "-o", output.FullName, "--nologo", "-v", "quiet" })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(8));
            Assert.True(process.ExitCode == 0, $"dotnet publish failed:\n{await stdout}\n{await stderr}");

            foreach (var file in new[] { "host.json", "functions.metadata", "worker.config.json", "DecentCloud.Functions.dll", "extensions.json", Path.Combine(".azurefunctions", "Microsoft.Azure.Functions.Worker.Extensions.dll") })
            {
                Assert.True(File.Exists(Path.Combine(output.FullName, file)), $"the package has no {file}");
            }

            Assert.False(File.Exists(Path.Combine(output.FullName, "local.settings.json")), "local settings must never be published");
            using var worker = JsonDocument.Parse(File.ReadAllText(Path.Combine(output.FullName, "worker.config.json")));
            Assert.Equal("DecentCloud.Functions.dll", worker.RootElement.GetProperty("description").GetProperty("defaultWorkerPath").GetString());
            Assert.Equal(Declared(TestFunctionApp.AppDirectory).Keys.Order(StringComparer.Ordinal), Declared(output.FullName).Keys.Order(StringComparer.Ordinal));
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private sealed record Trigger(string Type, string? Methods, string? Route, string? Level, string? QueueName, string? Schedule);
}
