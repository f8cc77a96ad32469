using DecentCloud.Functions.Billing;
using DecentCloud.Functions.Billing.Checkout;
using DecentCloud.Functions.Billing.Invoices;
using DecentCloud.Functions.Billing.Payments;
using DecentCloud.Functions.Billing.Receipts;
using DecentCloud.Functions.Billing.Refunding;
using DecentCloud.Functions.Billing.StripeIntegration;
using DecentCloud.Functions.Chatwoot.Onboarding;
using DecentCloud.Functions.Chatwoot.Webhooks;
using DecentCloud.Functions.Health;
using DecentCloud.Functions.Hosting;
using DecentCloud.Functions.Hosting.Http;
using DecentCloud.Functions.Identity;
using DecentCloud.Functions.Identity.Delegations;
using DecentCloud.Functions.Marketplace.Accounts;
using DecentCloud.Functions.Marketplace.Contracts;
using DecentCloud.Functions.Marketplace.Events;
using DecentCloud.Functions.Marketplace.Offerings;
using DecentCloud.Functions.Marketplace.Providers;
using DecentCloud.Functions.Operations;
using DecentCloud.Functions.Workflows;

namespace DecentCloud.Functions;

/// <summary>The Decent Cloud function app: every feature's services, and every function with its trigger.</summary>
public static class Program
{
    public static Task Main(string[] args) => Create(args).RunAsync();

    /// <param name="configure">Lets tests add settings or functions before the app is built.</param>
    public static WebApplication Create(string[] args, string? scriptRoot = null, Action<FunctionsApplicationBuilder>? configure = null)
    {
        var builder = FunctionsApplication.CreateBuilder(args, scriptRoot);

        builder.Services
            .AddHealth()
            .AddIdentity()
            .AddAgentDelegations()
            .AddOperations()
            .AddAccounts()
            .AddProviders()
            .AddOfferings()
            .AddContracts()
            .AddBilling()
            .AddWorkflows()
            .AddChatwoot();

        builder.Functions
            .Http<HealthCheck>("GET", "health", AuthorizationLevel.Anonymous)
            .Http<ListQueues>("GET", "v1/admin/queues", AuthorizationLevel.Admin)
            .Http<ListPoisonMessages>("GET", "v1/admin/queues/{queue}/poison", AuthorizationLevel.Admin)
            .Http<ReplayPoisonMessages>("POST", "v1/admin/queues/{queue}/poison/replay", AuthorizationLevel.Admin)
            .Http<ReplayPoisonMessage>("POST", "v1/admin/queues/{queue}/poison/{messageId}/replay", AuthorizationLevel.Admin)
            .Http<DeletePoisonMessage>("DELETE", "v1/admin/queues/{queue}/poison/{messageId}", AuthorizationLevel.Admin)
            .Http<ListAdminActions>("GET", "v1/admin/actions", AuthorizationLevel.Admin)
            .SignedHttp<OnboardProvider>("POST", "v1/providers")
            .Http<GetProvider>("GET", "v1/providers/{pubkey}", AuthorizationLevel.Anonymous)
            .SignedHttp<UpdateProvider>("PUT", "v1/providers/{pubkey}")
            .SignedHttp<CreateAgentDelegation>("POST", "v1/providers/{pubkey}/agent-delegations")
            .SignedHttp<ListAgentDelegations>("GET", "v1/providers/{pubkey}/agent-delegations")
            .SignedHttp<RevokeAgentDelegation>("DELETE", "v1/providers/{pubkey}/agent-delegations/{agentKey}")
            .SignedHttp<GetProviderSupport>("GET", "v1/providers/{pubkey}/support")
            .Http<GetProviderSupportAsAdmin>("GET", "v1/admin/providers/{pubkey}/support", AuthorizationLevel.Admin)
            .Http<RetryProviderSupport>("POST", "v1/admin/providers/{pubkey}/support/retry", AuthorizationLevel.Admin)
            .Http<ListWorkflows>("GET", "v1/admin/workflows", AuthorizationLevel.Admin)
            .SignedHttp<AddSupportAgent>("POST", "v1/providers/{pubkey}/support/agents")
            .SignedHttp<ListSupportAgents>("GET", "v1/providers/{pubkey}/support/agents")
            .SignedHttp<RemoveSupportAgent>("DELETE", "v1/providers/{pubkey}/support/agents/{userId}")
            .Http<ChatwootWebhook>("POST", "v1/webhooks/chatwoot", AuthorizationLevel.Anonymous)
            .Queue<ProcessChatwootEvent, ChatwootEventMessage>(ChatwootWebhook.QueueName)
            .Queue<StartChatwootOnboarding, DomainEvent<ProviderOnboarded>>(StartChatwootOnboarding.QueueName)
            .SignedHttp<CreateOffering>("POST", "v1/providers/{pubkey}/offerings")
            .Http<GetOffering>("GET", "v1/providers/{pubkey}/offerings/{id}", AuthorizationLevel.Anonymous)
            .SignedHttp<UpdateOffering>("PUT", "v1/providers/{pubkey}/offerings/{id}")
            .SignedHttp<HideOffering>("POST", "v1/providers/{pubkey}/offerings/{id}/hide")
            .SignedHttp<ShowOffering>("POST", "v1/providers/{pubkey}/offerings/{id}/show")
            .Http<SearchOfferings>("GET", "v1/offerings", AuthorizationLevel.Anonymous)
            .SignedHttp<PutAccount>("PUT", "v1/accounts/{pubkey}")
            .SignedHttp<GetAccount>("GET", "v1/accounts/{pubkey}")
            .SignedHttp<AddSshKey>("POST", "v1/accounts/{pubkey}/ssh-keys")
            .SignedHttp<ListSshKeys>("GET", "v1/accounts/{pubkey}/ssh-keys")
            .SignedHttp<DeleteSshKey>("DELETE", "v1/accounts/{pubkey}/ssh-keys/{fingerprint}")
            .SignedHttp<PutBilling>("PUT", "v1/accounts/{pubkey}/billing")
            .SignedHttp<GetBilling>("GET", "v1/accounts/{pubkey}/billing")
            .SignedHttp<RentContract>("POST", "v1/contracts")
            .SignedHttp<GetContract>("GET", "v1/contracts/{id}")
            .SignedHttp<AcceptContract>("POST", "v1/contracts/{id}/accept")
            .SignedHttp<RejectContract>("POST", "v1/contracts/{id}/reject")
            .SignedHttp<CancelContract>("POST", "v1/contracts/{id}/cancel")
            .SignedHttp<StartCheckout>("POST", "v1/contracts/{id}/checkout")
            .SignedOrAdminHttp<GetInvoice>("GET", "v1/contracts/{id}/invoice")
            .SignedOrAdminHttp<GetInvoiceMetadata>("GET", "v1/contracts/{id}/invoice/metadata")
            .SignedOrAdminHttp<GetCreditNote>("GET", "v1/contracts/{id}/credit-notes/{number}")
            .Http<StripeWebhook>("POST", "v1/webhooks/stripe", AuthorizationLevel.Anonymous)
            .Http<ListRefunds>("GET", "v1/admin/refunds", AuthorizationLevel.Admin)
            .Http<ApproveRefund>("POST", "v1/admin/contracts/{id}/refunds/{sessionId}/approve", AuthorizationLevel.Admin)
            .Queue<ProcessStripeEvent, StripeEventMessage>(StripeWebhook.QueueName)
            .Queue<IssueInvoice, InvoiceWork>(InvoiceWork.QueueName)
            .Queue<SendReceipt, ReceiptWork>(ReceiptWork.QueueName)
            .Queue<RunWorkflowStep, WorkflowTick>(WorkflowTick.QueueName)
            .Timer<SweepWorkflows>("0 * * * * *")
            .Timer<PurgeExpiredNonces>("0 */10 * * * *")
            .Timer<ExpireContracts>("0 */5 * * * *")
            .Timer<PayRefunds>("30 */5 * * * *")
            .Timer<RedriveStripeEvents>("15 */5 * * * *")
            .Timer<PollStripeEvents>("45 */5 * * * *")
            .Timer<WatchPoisonQueues>("50 */5 * * * *");

        configure?.Invoke(builder);
        return builder.Build();
    }
}
