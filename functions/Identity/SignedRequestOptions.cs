using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Identity;

/// <summary>Settings of signed requests.</summary>
public sealed class SignedRequestOptions
{
    public const string MaxBodyBytesSetting = "SIGNED_BODY_MAX_BYTES";
    public const int DefaultMaxBodyBytes = 1_048_576;

    /// <summary>
    /// The largest body a signed request may carry, in bytes. The signature is checked over the whole body, so without
    /// this bound anyone could make the app read up to the server's own limit (about 30 MB) before it refuses a forgery.
    /// </summary>
    [ConfigurationKeyName(MaxBodyBytesSetting)]
    [Range(1024, 30_000_000)]
    public int MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;
}
