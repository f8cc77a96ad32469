using Microsoft.Extensions.Configuration;

namespace DecentCloud.Agent.Provisioners;

/// <summary>
/// A kind of infrastructure dc-agent provisions on. Its <see cref="Name"/> is both a value of the <c>provisioner</c>
/// setting and the name of its config section (<c>[docker]</c>, <c>[hetzner]</c>...). A section may hold per-offering
/// settings under <c>[&lt;name&gt;.offerings."&lt;offering id&gt;"]</c>; an offering named there is provisioned by that
/// kind, any other offering by the default <c>provisioner</c>.
/// </summary>
/// <param name="Name">The setting value and section name, lower case.</param>
/// <param name="Validate">Checks the kind's section and answers one message per problem, each naming its key as
/// <c>section.key</c>; called for every kind that is the default or has a section.</param>
/// <param name="Create">Makes the provisioner from the app's services and the kind's section.</param>
internal sealed record ProvisionerKind(
    string Name,
    Func<IConfigurationSection, IEnumerable<string>> Validate,
    Func<IServiceProvider, IConfigurationSection, IProvisioner> Create);

/// <summary>The kinds this build of dc-agent knows. A new provisioner adds its <see cref="ProvisionerKind"/> here.</summary>
internal static class ProvisionerKinds
{
    /// <summary>The sub-table of a kind's section that holds per-offering settings.</summary>
    public const string OfferingsKey = "offerings";

    public static IReadOnlyList<ProvisionerKind> All { get; } =
    [
        ManualProvisioner.Kind,
        Docker.DockerProvisioner.Kind,
        Proxmox.ProxmoxProvisioner.Kind,
        Hetzner.HetznerProvisioner.Kind,
    ];

    public static ProvisionerKind? Find(string name) =>
        All.FirstOrDefault(kind => string.Equals(kind.Name, name, StringComparison.Ordinal));

    /// <summary>The kinds in use: the default one and every one with a section in the configuration.</summary>
    public static IReadOnlyList<ProvisionerKind> InUse(IConfiguration configuration, string defaultName) =>
        [.. All.Where(kind => kind.Name == defaultName || configuration.GetSection(kind.Name).Exists())];

    /// <summary>The offering ids a kind's section names, under <c>offerings</c>.</summary>
    public static IEnumerable<string> OfferingIds(IConfiguration configuration, ProvisionerKind kind) =>
        configuration.GetSection(kind.Name).GetSection(OfferingsKey).GetChildren().Select(section => section.Key);

    /// <summary>One message per key of <paramref name="section"/> that is not in <paramref name="known"/> (a typo).</summary>
    public static IEnumerable<string> UnknownKeys(IConfigurationSection section, IReadOnlyCollection<string> known) =>
        section.GetChildren()
            .Where(child => !known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            .Select(child => $"'{section.Path.Replace(':', '.')}.{child.Key}' is not a setting of the {section.Key} provisioner; known: {string.Join(", ", known)}");
}
