namespace DecentCloud.Functions.Provisioning.Health;

/// <summary>
/// The platform's probes of a window: how many, how many connected, and the share that did (null without probes); beside
/// them the probes refused because the instance's address is not public, which are not checks.
/// </summary>
public sealed record ProbeFigures(int Checks, int Up, double? UptimePercent, int Refused);

/// <summary>The agents' reports of a window: healthy and unhealthy ones count as checks; <c>unknown</c> ones are counted apart.</summary>
public sealed record ReportFigures(int Checks, int Healthy, int Unknown, double? UptimePercent);

/// <summary>
/// Uptime (docs/provisioning.md, "Uptime"): of the checks made in the window, the share that found the instance up,
/// as a percentage with two decimals; the number of checks stands beside each figure, since 100% of 3 checks says
/// less than 99.9% of 8,000. The platform's probes are the figure; the agents' reports stand beside it, since a provider
/// cannot vouch for its own uptime alone.
/// </summary>
public static class UptimeFigures
{
    public static ProbeFigures Of(IEnumerable<ProbeRow> probes, DateTimeOffset since)
    {
        var (checks, up, refused) = (0, 0, 0);
        foreach (var probe in probes.Where(p => p.At >= since))
        {
            if (probe.Refused is not null)
            {
                refused++;
                continue;
            }

            checks++;
            up += probe.Up ? 1 : 0;
        }

        return new ProbeFigures(checks, up, Percent(up, checks), refused);
    }

    public static ReportFigures Of(IEnumerable<HealthReportRow> reports, DateTimeOffset since)
    {
        var (checks, healthy, unknown) = (0, 0, 0);
        foreach (var report in reports.Where(r => r.ReceivedAt >= since))
        {
            switch (report.Status)
            {
                case HealthStatus.Healthy:
                    checks++;
                    healthy++;
                    break;
                case HealthStatus.Unhealthy:
                    checks++;
                    break;
                default:
                    unknown++;
                    break;
            }
        }

        return new ReportFigures(checks, healthy, unknown, Percent(healthy, checks));
    }

    public static ProbeFigures Sum(IEnumerable<ProbeFigures> figures)
    {
        var (checks, up, refused) = figures.Aggregate((0, 0, 0), (sum, f) => (sum.Item1 + f.Checks, sum.Item2 + f.Up, sum.Item3 + f.Refused));
        return new ProbeFigures(checks, up, Percent(up, checks), refused);
    }

    public static ReportFigures Sum(IEnumerable<ReportFigures> figures)
    {
        var (checks, healthy, unknown) = figures.Aggregate((0, 0, 0), (sum, f) => (sum.Item1 + f.Checks, sum.Item2 + f.Healthy, sum.Item3 + f.Unknown));
        return new ReportFigures(checks, healthy, unknown, Percent(healthy, checks));
    }

    private static double? Percent(int part, int whole) =>
        whole == 0 ? null : Math.Round(part * 100.0 / whole, 2, MidpointRounding.AwayFromZero);
}

/// <summary>The statuses of an agent's health report.</summary>
public static class HealthStatus
{
    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";
    public const string Unknown = "unknown";

    public static bool IsKnown(string? status) => status is Healthy or Unhealthy or Unknown;
}
