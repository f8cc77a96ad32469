namespace DecentCloud.Tests.Support;

public static class TestKeys
{
    public const string Master = "test-master-key-0123456789abcdef0123456789";
    public const string Host = "test-host-key-0123456789abcdef0123456789ab";

    /// <summary>The Stripe webhook secret of the published signature vectors (contracts/stripe).</summary>
    public const string StripeWebhookSecret = "whsec_test_secret_for_unit_tests";
}
