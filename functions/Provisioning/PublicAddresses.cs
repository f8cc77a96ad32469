using System.Net;
using System.Net.Sockets;

namespace DecentCloud.Functions.Provisioning;

/// <summary>
/// Whether an address is public, that is reachable from the whole Internet. The platform connects to the addresses a
/// provider's agent reports (the probe of each instance, docs/provisioning.md "Uptime"); without this check a provider
/// could make it connect inside its own network (the cloud's metadata service at 169.254.169.254, private ranges,
/// loopback) and read from the uptime figures what answers there. The ranges are those IANA's special-purpose address
/// registries mark not globally reachable (RFC 6890 and its updates), and for IPv6 anything outside global unicast
/// (2000::/3). An IPv4 address written as IPv6 (<c>::ffff:a.b.c.d</c>) is judged as the IPv4 address it is.
/// </summary>
public static class PublicAddresses
{
    private static readonly (IPNetwork Range, string Kind)[] NotPublic =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "this network"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared address space (carrier-grade NAT)"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.0.0.0/24"), "IETF protocol assignments"),
        (IPNetwork.Parse("192.0.2.0/24"), "documentation"),
        (IPNetwork.Parse("192.88.99.0/24"), "6to4 relay anycast"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("198.18.0.0/15"), "benchmarking"),
        (IPNetwork.Parse("198.51.100.0/24"), "documentation"),
        (IPNetwork.Parse("203.0.113.0/24"), "documentation"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("::/96"), "IPv4-compatible"),
        (IPNetwork.Parse("64:ff9b::/96"), "IPv4 translation (NAT64)"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "local IPv4 translation"),
        (IPNetwork.Parse("100::/64"), "discard-only"),
        (IPNetwork.Parse("2001::/23"), "IETF protocol assignments (Teredo, benchmarking...)"),
        (IPNetwork.Parse("2001:db8::/32"), "documentation"),
        (IPNetwork.Parse("2002::/16"), "6to4"),
        (IPNetwork.Parse("3fff::/20"), "documentation"),
        (IPNetwork.Parse("fc00::/7"), "unique local"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fec0::/10"), "site-local"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    private static readonly IPNetwork GlobalUnicast = IPNetwork.Parse("2000::/3");

    /// <summary>The kind of range that makes <paramref name="address"/> not public (<c>loopback</c>, <c>private</c>...), or null when it is public.</summary>
    public static string? NotPublicBecause(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var (range, kind) in NotPublic)
        {
            if (range.Contains(address))
            {
                return kind;
            }
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => null,
            AddressFamily.InterNetworkV6 when GlobalUnicast.Contains(address) => null,
            AddressFamily.InterNetworkV6 => "not global unicast",
            _ => "not an IP address",
        };
    }

    /// <summary>
    /// Why a host name reported for an instance cannot be public, or null when it may be (only its resolution tells):
    /// an address written as a name, a name that resolves on the machine itself (<c>localhost</c>, RFC 6761) or in a
    /// local network by definition (<c>.local</c>, <c>.internal</c>, <c>.home.arpa</c>), or a single label, which the
    /// platform's resolver would complete with its own network's search domain.
    /// </summary>
    public static string? NameNotPublicBecause(string hostname)
    {
        var name = hostname.TrimEnd('.').ToLowerInvariant();
        if (IPAddress.TryParse(name, out var address))
        {
            return NotPublicBecause(address) is { } kind ? $"{kind} address" : null;
        }

        if (!name.Contains('.', StringComparison.Ordinal))
        {
            return "a single label, completed by the resolver's own search domain";
        }

        string[] localSuffixes = ["localhost", "local", "internal", "home.arpa"];
        return localSuffixes.FirstOrDefault(suffix => name == suffix || name.EndsWith("." + suffix, StringComparison.Ordinal)) is { } local
            ? $"a name under .{local}, never public"
            : null;
    }
}
