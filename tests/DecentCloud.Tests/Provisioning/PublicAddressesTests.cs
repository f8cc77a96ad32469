using System.Net;
using DecentCloud.Functions.Provisioning;

namespace DecentCloud.Tests.ProvisioningApi;

/// <summary>Which addresses the platform may connect to: public ones only (the probe guard, docs/provisioning.md).</summary>
public sealed class PublicAddressesTests
{
    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.0")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2a01:4f8::1")]
    [InlineData("::ffff:8.8.8.8")]
    public void A_public_address_is_public(string address) =>
        Assert.Null(PublicAddresses.NotPublicBecause(IPAddress.Parse(address)));

    [Theory]
    [InlineData("0.0.0.0", "this network")]
    [InlineData("10.1.2.3", "private")]
    [InlineData("100.64.0.1", "shared address space (carrier-grade NAT)")]
    [InlineData("100.127.255.254", "shared address space (carrier-grade NAT)")]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.9", "loopback")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("192.0.0.170", "IETF protocol assignments")]
    [InlineData("192.0.2.1", "documentation")]
    [InlineData("198.18.0.1", "benchmarking")]
    [InlineData("203.0.113.10", "documentation")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("255.255.255.255", "reserved")]
    [InlineData("::", "unspecified")]
    [InlineData("::1", "loopback")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:169.254.169.254", "link-local")]
    [InlineData("::127.0.0.1", "IPv4-compatible")]
    [InlineData("64:ff9b::a00:1", "IPv4 translation (NAT64)")]
    [InlineData("fd00:ec2::254", "unique local")]
    [InlineData("fc00::1", "unique local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("fec0::1", "site-local")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("2001:db8::1", "documentation")]
    [InlineData("2001:0:4136:e378::1", "IETF protocol assignments (Teredo, benchmarking...)")]
    [InlineData("2002:a00:1::1", "6to4")]
    [InlineData("4000::1", "not global unicast")]
    public void An_address_outside_the_public_internet_is_named_by_its_range(string address, string kind) =>
        Assert.Equal(kind, PublicAddresses.NotPublicBecause(IPAddress.Parse(address)));

    [Theory]
    [InlineData("vm-17.provider.example.net", null)]
    [InlineData("ssh.provider.example.net.", null)]
    [InlineData("8.8.8.8", null)]
    [InlineData("localhost", "a single label, completed by the resolver's own search domain")]
    [InlineData("metadata", "a single label, completed by the resolver's own search domain")]
    [InlineData("api.localhost", "a name under .localhost, never public")]
    [InlineData("printer.local", "a name under .local, never public")]
    [InlineData("metadata.google.internal", "a name under .internal, never public")]
    [InlineData("nas.home.arpa", "a name under .home.arpa, never public")]
    [InlineData("169.254.169.254", "link-local address")]
    [InlineData("10.0.0.5", "private address")]
    public void A_host_name_that_cannot_be_public_is_named_so(string hostname, string? reason) =>
        Assert.Equal(reason, PublicAddresses.NameNotPublicBecause(hostname));
}
