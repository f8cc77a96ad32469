using DecentCloud.Agent.Api;
using DecentCloud.Agent.State;

namespace DecentCloud.Agent.Provisioners;

/// <summary>
/// The provisioners this agent runs and which one handles what: new work goes to the kind whose section names its
/// offering (else the default); a contract in hand stays with the kind recorded in the state file when it was locked.
/// </summary>
internal sealed class ProvisionerSet
{
    private readonly Dictionary<string, IProvisioner> byName;
    private readonly IReadOnlyDictionary<string, string> kindByOffering;

    public ProvisionerSet(IProvisioner defaultProvisioner, IReadOnlyList<IProvisioner> all, IReadOnlyDictionary<string, string> kindByOffering)
    {
        Default = defaultProvisioner;
        All = all.Contains(defaultProvisioner) ? all : [defaultProvisioner, .. all];
        byName = All.ToDictionary(p => p.Name, StringComparer.Ordinal);
        this.kindByOffering = kindByOffering;
        foreach (var (offering, kind) in kindByOffering)
        {
            if (!byName.ContainsKey(kind))
            {
                throw new ArgumentException($"Offering '{offering}' names the provisioner '{kind}', which is not in use.", nameof(kindByOffering));
            }
        }
    }

    /// <summary>A set of one provisioner for everything.</summary>
    public static ProvisionerSet Single(IProvisioner provisioner) => new(provisioner, [provisioner], new Dictionary<string, string>());

    public IProvisioner Default { get; }

    public IReadOnlyList<IProvisioner> All { get; }

    /// <summary>The names in use, default first, as heartbeats send them (<c>docker,manual</c>).</summary>
    public string Names => string.Join(",", All.Select(p => p.Name));

    public IReadOnlyList<string> Capabilities => [.. All.SelectMany(p => p.Capabilities).Distinct(StringComparer.Ordinal)];

    public IProvisioner ForWork(Work work) =>
        work.OfferingId is { } offering && kindByOffering.TryGetValue(offering, out var kind) ? byName[kind] : Default;

    /// <summary>
    /// The provisioner of a contract in hand: the one recorded when it was locked; for a contract the state file does not
    /// know (lost, or made by an older agent), the first whose infrastructure has it; else the default.
    /// </summary>
    public async Task<IProvisioner> ForContractAsync(string contractId, ContractRecord? record, CancellationToken cancellationToken)
    {
        if (record?.Provisioner is { } name && byName.TryGetValue(name, out var recorded))
        {
            return recorded;
        }
        if (All.Count == 1)
        {
            return Default;
        }
        foreach (var provisioner in All)
        {
            if (await provisioner.GetAsync(contractId, cancellationToken) is not null)
            {
                return provisioner;
            }
        }
        return Default;
    }

    /// <summary>The provisioner recorded for a contract; the default for a record without one.</summary>
    public IProvisioner ForRecord(ContractRecord record) =>
        record.Provisioner is { } name && byName.TryGetValue(name, out var recorded) ? recorded : Default;
}
