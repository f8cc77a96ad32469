namespace DecentCloud.Benchmarks;

internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = Sorted(values);
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>Nearest-rank percentile: the smallest value that at least <paramref name="percent"/> % of the values do not exceed.</summary>
    public static double Percentile(IEnumerable<double> values, double percent)
    {
        var sorted = Sorted(values);
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    private static double[] Sorted(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length > 0 ? sorted : throw new InvalidOperationException("No values to summarise.");
    }
}
