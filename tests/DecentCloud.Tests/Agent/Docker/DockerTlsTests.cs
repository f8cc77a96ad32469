using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DecentCloud.Agent.Api;
using DecentCloud.Agent.Provisioners;
using DecentCloud.Agent.Provisioners.Docker;
using Microsoft.Extensions.Logging.Abstractions;

namespace DecentCloud.Tests.Agent.Docker;

/// <summary>The Docker provisioner over TCP with TLS, as against <c>dockerd --tlsverify</c>: the daemon's certificate checked against the configured CA, the agent's client certificate required.</summary>
public sealed class DockerTlsTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("dc-docker-tls-");

    [Fact]
    public async Task The_agent_reaches_a_tls_daemon_with_its_client_certificate_and_provisions()
    {
        using var authority = Authority("dc-test docker CA");
        using var serverCertificate = Issue(authority, "localhost", server: true);
        await using var docker = await DockerStandIn.StartTlsAsync(serverCertificate, authority);
        docker.AddImage("ghcr.io/example/ubuntu-ssh:24.04");
        var provisioner = Provisioner(docker.Endpoint, authority, Issue(authority, "dc-agent", server: false));

        var checks = await provisioner.VerifySetupAsync(CancellationToken.None);
        var outcome = await provisioner.ProvisionAsync(new Work("c-1", "small", "ab", null, 1, "accepted", null), CancellationToken.None);

        Assert.All(checks, check => Assert.Equal(SetupCheckLevel.Ok, check.Level));
        Assert.IsType<ProvisionOutcome.Provisioned>(outcome);
        Assert.Single(docker.Containers);
        Assert.Empty(docker.Violations);
    }

    [Fact]
    public async Task A_client_certificate_from_another_ca_or_a_daemon_certificate_from_another_ca_is_refused()
    {
        using var authority = Authority("dc-test docker CA");
        using var stranger = Authority("someone else's CA");
        using var serverCertificate = Issue(authority, "localhost", server: true);
        await using var docker = await DockerStandIn.StartTlsAsync(serverCertificate, authority);

        var wrongClient = Assert.Single(await Provisioner(docker.Endpoint, authority, Issue(stranger, "dc-agent", server: false)).VerifySetupAsync(CancellationToken.None));
        var wrongDaemon = Assert.Single(await Provisioner(docker.Endpoint, stranger, Issue(authority, "dc-agent", server: false)).VerifySetupAsync(CancellationToken.None));

        Assert.Equal((SetupCheckLevel.Error, SetupCheckLevel.Error), (wrongClient.Level, wrongDaemon.Level));
        Assert.Contains("does not answer", wrongDaemon.Message, StringComparison.Ordinal);
        Assert.Empty(docker.Requests);
    }

    public void Dispose() => folder.Delete(recursive: true);

    private DockerProvisioner Provisioner(string endpoint, X509Certificate2 authority, X509Certificate2 client)
    {
        var name = Guid.NewGuid().ToString("N")[..8];
        var ca = Path.Combine(folder.FullName, $"{name}-ca.pem");
        var cert = Path.Combine(folder.FullName, $"{name}-cert.pem");
        var key = Path.Combine(folder.FullName, $"{name}-key.pem");
        File.WriteAllText(ca, authority.ExportCertificatePem());
        File.WriteAllText(cert, client.ExportCertificatePem());
        using (var ecdsa = client.GetECDsaPrivateKey()!)
        {
            File.WriteAllText(key, ecdsa.ExportPkcs8PrivateKeyPem());
        }
        client.Dispose();
        var options = new DockerOptions
        {
            Endpoint = endpoint,
            TlsCaFile = ca,
            TlsCertFile = cert,
            TlsKeyFile = key,
            PublicHost = "203.0.113.10",
            RequestTimeoutSeconds = 5,
            Offerings = { ["small"] = new DockerOfferingOptions { Image = "ghcr.io/example/ubuntu-ssh:24.04" } },
        };
        return new DockerProvisioner(options, DockerClient.Create(options), TimeProvider.System, NullLogger.Instance);
    }

    private static X509Certificate2 Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 authority, string name, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(name);
            request.CertificateExtensions.Add(names.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(12);
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12), serial);
        return issued.CopyWithPrivateKey(key);
    }
}
