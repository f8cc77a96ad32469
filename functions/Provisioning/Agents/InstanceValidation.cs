using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace DecentCloud.Functions.Provisioning.Agents;

/// <summary>
/// The rules of a reported instance. The API cannot open the sealed credentials (only the renter's key can), so it checks
/// their form: version 2, a 32-byte ephemeral key, a 24-byte nonce, a ciphertext at least as long as its 16-byte tag,
/// and associated data that is exactly the contract id, so a blob sealed for another contract is refused. Its addresses
/// must be public unless <c>PROBE_ALLOW_PRIVATE_ADDRESSES</c> (<see cref="PublicAddresses"/>): the platform probes them.
/// </summary>
internal static partial class InstanceValidation
{
    public const int SealingVersion = 2;
    public const int MaxCiphertextChars = 16 * 1024;
    public const int MaxExternalIdLength = 256;

    public static void Check(InstanceReport instance, string contractId, bool allowPrivateAddresses, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(instance.ExternalId) || instance.ExternalId.Length > MaxExternalIdLength || instance.ExternalId.Any(char.IsControl))
        {
            errors["instance.externalId"] = [$"The provisioner's id of the instance is required: 1-{MaxExternalIdLength} characters, no control characters."];
        }

        if (instance.Ipv4 is not null && !(IPAddress.TryParse(instance.Ipv4, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork && v4.ToString() == instance.Ipv4))
        {
            errors["instance.ipv4"] = ["Not an IPv4 address in dotted form."];
        }

        if (instance.Ipv6 is not null && !(IPAddress.TryParse(instance.Ipv6, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6))
        {
            errors["instance.ipv6"] = ["Not an IPv6 address."];
        }

        if (instance.Hostname is not null && !HostName().IsMatch(instance.Hostname))
        {
            errors["instance.hostname"] = ["Not a host name (letters, digits, hyphens and dots, at most 253 characters)."];
        }

        if (!allowPrivateAddresses)
        {
            CheckPublic(instance, errors);
        }

        if (instance.Ipv4 is null && instance.Ipv6 is null && instance.Hostname is null)
        {
            errors["instance"] = ["At least one of ipv4, ipv6 and hostname is required: the renter connects to it."];
        }

        if (instance.SshPort is not (>= 1 and <= 65535))
        {
            errors["instance.sshPort"] = ["The SSH port is required, 1-65535."];
        }

        if (instance.SshUser is not null && !SshUser().IsMatch(instance.SshUser))
        {
            errors["instance.sshUser"] = ["Not a user name (1-32 of letters, digits, '.', '_' and '-', not starting with '-')."];
        }

        if (instance.SealedCredentials is not { } sealedCredentials)
        {
            errors["instance.sealedCredentials"] = ["The credentials sealed to the renter's key are required."];
            return;
        }

        if (sealedCredentials.Version != SealingVersion)
        {
            errors["instance.sealedCredentials.version"] = [$"Only version {SealingVersion} of the sealing scheme is accepted."];
        }

        CheckBytes(sealedCredentials.EphemeralPubkey, "ephemeralPubkey", length => length == 32, "32 bytes (an X25519 public key)", errors);
        CheckBytes(sealedCredentials.Nonce, "nonce", length => length == 24, "24 bytes (an XChaCha20-Poly1305 nonce)", errors);
        if (sealedCredentials.Ciphertext?.Length > MaxCiphertextChars)
        {
            errors["instance.sealedCredentials.ciphertext"] = [$"At most {MaxCiphertextChars} base64 characters."];
        }
        else
        {
            CheckBytes(sealedCredentials.Ciphertext, "ciphertext", length => length >= 16, "at least the 16-byte authentication tag", errors);
        }

        if (Decode(sealedCredentials.Aad) is not { } aad || !aad.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(contractId)))
        {
            errors["instance.sealedCredentials.aad"] = ["The associated data must be this contract's id (its UTF-8 bytes, base64): the credentials are sealed for this contract."];
        }
    }

    private static void CheckPublic(InstanceReport instance, Dictionary<string, string[]> errors)
    {
        const string Why = "the renter and the platform's probe connect to it";
        foreach (var (field, literal) in new[] { ("instance.ipv4", instance.Ipv4), ("instance.ipv6", instance.Ipv6) })
        {
            if (!errors.ContainsKey(field) && literal is not null && PublicAddresses.NotPublicBecause(IPAddress.Parse(literal)) is { } kind)
            {
                errors[field] = [$"{literal} is not a public address ({kind}): {Why}."];
            }
        }

        if (!errors.ContainsKey("instance.hostname") && instance.Hostname is not null && PublicAddresses.NameNotPublicBecause(instance.Hostname) is { } reason)
        {
            errors["instance.hostname"] = [$"{instance.Hostname} is not a public host name ({reason}): {Why}."];
        }
    }

    private static void CheckBytes(string? base64, string field, Func<int, bool> lengthOk, string expected, Dictionary<string, string[]> errors)
    {
        if (Decode(base64) is not { } bytes || !lengthOk(bytes.Length))
        {
            errors[$"instance.sealedCredentials.{field}"] = [$"Base64 of {expected} is required."];
        }
    }

    private static byte[]? Decode(string? base64)
    {
        if (string.IsNullOrEmpty(base64))
        {
            return null;
        }

        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, buffer, out var written) ? buffer[..written] : null;
    }

    [GeneratedRegex("^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?$")]
    private static partial Regex HostName();

    [GeneratedRegex("^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$")]
    private static partial Regex SshUser();
}
