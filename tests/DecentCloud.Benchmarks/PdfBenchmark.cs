using System.Diagnostics;
using System.Text;
using DecentCloud.Functions.Billing.Invoices;
using DecentCloud.Functions.Billing.Vat;

namespace DecentCloud.Benchmarks;

/// <param name="Renders">Timed renders of each document.</param>
internal sealed record PdfPlan(int WarmUps, int Renders)
{
    public static PdfPlan Full { get; } = new(50, 500);

    public static PdfPlan Quick { get; } = new(10, 60);
}

/// <summary>One document's renders.</summary>
/// <param name="FirstMs">The very first render of this document in the process (for the first document: font loading, Skia's start, JIT).</param>
/// <param name="AllocatedBytes">Managed bytes each timed render allocated on its thread (Skia's native memory is not in it).</param>
/// <param name="SameBytes">Every render gave the same bytes as the first.</param>
internal sealed record PdfRenders(string Name, string Description, double FirstMs, IReadOnlyList<double> Ms, IReadOnlyList<long> AllocatedBytes, int SizeBytes, int Pages, bool SameBytes);

/// <summary>
/// <see cref="InvoicePdf.Render"/> for a realistic invoice and a credit note: each render timed on its own with a
/// Stopwatch, on one thread, after a warm-up, the two documents alternating.
/// </summary>
internal static class PdfBenchmark
{
    private static readonly InvoiceParty Seller = new(
        "Decent Cloud Infrastructure Services GmbH", "Friedrichstraße 123, Hinterhaus", "Aufgang B, 4. Obergeschoss", "Berlin", "10117", "DE", "DE123456789");

    public static PdfResult Run(PdfPlan plan)
    {
        PdfSample[] documents =
        [
            new("reverse-charge invoice", "goes to a French business with a valid VAT ID, with long names and addresses, the reverse-charge note and a second note", ReverseChargeInvoice()),
            new("credit note", "is at 19 % VAT to a German business, refers to the invoice it corrects and has a note", CreditNote()),
        ];
        var loadBefore = LoadAverage.Read();

        // The first render of each, cold, timed on its own (not counted).
        var first = documents.Select(d => Timed(d.Document)).ToArray();
        foreach (var (render, i) in first.Select((render, i) => (render, i)))
        {
            Progress.Line($"pdf: first render of the {documents[i].Name}: {render.Ms:F1} ms, {render.Bytes.Length} bytes");
        }

        for (var i = 0; i < plan.WarmUps; i++)
        {
            foreach (var document in documents)
            {
                InvoicePdf.Render(document.Document);
            }
        }

        var ms = documents.Select(_ => new List<double>(plan.Renders)).ToArray();
        var allocated = documents.Select(_ => new List<long>(plan.Renders)).ToArray();
        var same = documents.Select(_ => true).ToArray();
        var collections = Collections();
        var clock = Stopwatch.StartNew();
        for (var round = 0; round < plan.Renders; round++)
        {
            // Rotated order, so neither document always follows the other.
            for (var place = 0; place < documents.Length; place++)
            {
                var which = (round + place) % documents.Length;
                var render = Timed(documents[which].Document);
                ms[which].Add(render.Ms);
                allocated[which].Add(render.Allocated);
                same[which] &= render.Bytes.AsSpan().SequenceEqual(first[which].Bytes);
            }
        }

        clock.Stop();
        var gcs = Collections().Zip(collections, (after, before) => after - before).ToArray();
        Progress.Line($"pdf: {plan.Renders} timed renders of each in {clock.Elapsed.TotalSeconds:F1} s; garbage collections meanwhile gen0 {gcs[0]}, gen1 {gcs[1]}, gen2 {gcs[2]}");

        var renders = documents.Select((d, i) => new PdfRenders(d.Name, d.Description, first[i].Ms, ms[i], allocated[i], first[i].Bytes.Length, Pages(first[i].Bytes), same[i])).ToList();
        return new PdfResult(plan, renders, gcs, loadBefore, LoadAverage.Read());
    }

    private sealed record PdfSample(string Name, string Description, InvoiceDocument Document);

    private static (double Ms, long Allocated, byte[] Bytes) Timed(InvoiceDocument document)
    {
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        var bytes = InvoicePdf.Render(document);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return (elapsed, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore, bytes);
    }

    private static int[] Collections() => [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];

    /// <summary>The page objects in the file (Skia writes them uncompressed: <c>/Type /Page</c>, the tree's root being <c>/Pages</c>).</summary>
    private static int Pages(byte[] pdf)
    {
        var text = Encoding.Latin1.GetString(pdf);
        var count = 0;
        for (var at = text.IndexOf("/Type /Page", StringComparison.Ordinal); at >= 0; at = text.IndexOf("/Type /Page", at + 1, StringComparison.Ordinal))
        {
            var next = at + "/Type /Page".Length;
            count += next < text.Length && text[next] == 's' ? 0 : 1;
        }

        return count;
    }

    private static InvoiceDocument ReverseChargeInvoice() => new(
        InvoiceKind.Invoice,
        "INV-2026-001234",
        new DateTimeOffset(2026, 4, 1, 6, 12, 0, TimeSpan.Zero),
        RefersTo: null,
        Seller,
        SellerIban: "DE89370400440532013000",
        new InvoiceParty(
            "Société Européenne de Calcul Haute Performance SAS", "42 avenue des Champs-Élysées, Bâtiment C", "Service Comptabilité Fournisseurs",
            "Paris", "75008", "FR", "FR40303265045"),
        "Dedicated GPU server gpu-h100-80g ×2, 64 vCPU, 512 GiB RAM, 7.68 TB NVMe (eu-central-fra-2)",
        Hours: 744,
        PeriodStart: new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero),
        PeriodEnd: new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero),
        "EUR",
        NetMinor: 486_072,
        VatRatePercent: 0m,
        VatMinor: 0,
        GrossMinor: 486_072,
        VatTreatment.ReverseCharge,
        "card (Stripe)",
        "pi_3QxYzA2eZvKYlo2C0f1GhIjK",
        "ctr_01JQ7W3K5M8N2P4R6T9V1X3Z5B",
        [.. VatNotes.For(VatTreatment.ReverseCharge), "Thank you for renting through Decent Cloud. Questions about this invoice: billing@decentcloud.example, quoting INV-2026-001234."]);

    private static InvoiceDocument CreditNote() => new(
        InvoiceKind.CreditNote,
        "CN-2026-000057",
        new DateTimeOffset(2026, 4, 9, 14, 3, 0, TimeSpan.Zero),
        RefersTo: "INV-2026-001198",
        Seller,
        SellerIban: "DE89370400440532013000",
        new InvoiceParty(
            "Rechenzentrum Nord-Ost Betriebsgesellschaft mbH & Co. KG", "Am Sandtorkai 77, Speicherstadt", null,
            "Hamburg", "20457", "DE", "DE811907980"),
        "Virtual machine vm-c7-32 (32 vCPU, 128 GiB RAM, 2 TB SSD), eu-north-ham-1",
        Hours: 120,
        PeriodStart: new DateTimeOffset(2026, 3, 27, 0, 0, 0, TimeSpan.Zero),
        PeriodEnd: new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero),
        "EUR",
        NetMinor: 41_176,
        VatRatePercent: 19m,
        VatMinor: 7_824,
        GrossMinor: 49_000,
        VatTreatment.Standard,
        "card (Stripe)",
        "pi_3QwVuT2eZvKYlo2C1a9BcDeF",
        "ctr_01JPZ4H2G6F8D0S2A4Q6W8E0R2",
        ["Refund of the last five days of the rental period, which the provider could not serve."]);
}
