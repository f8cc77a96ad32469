using System.Text;
using Azure.Data.Tables;

namespace DecentCloud.Functions.Platform;

/// <summary>
/// A raw request body kept whole in a table row: UTF-8 in binary properties <c>Body0</c>, <c>Body1</c>… of 60 KB
/// each, since one property holds at most 64 KiB (and a row 1 MiB, which bounds the body at 900 KB).
/// </summary>
public static class TableBodies
{
    public const int ChunkBytes = 60 * 1024;
    public const int MaxChunks = 15;
    public const int MaxBodyBytes = ChunkBytes * MaxChunks;

    public static void Write(TableEntity row, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        for (var i = 0; i * ChunkBytes < bytes.Length; i++)
        {
            row[$"Body{i}"] = bytes.AsSpan(i * ChunkBytes, Math.Min(ChunkBytes, bytes.Length - (i * ChunkBytes))).ToArray();
        }
    }

    public static string Read(TableEntity row)
    {
        using var body = new MemoryStream();
        for (var i = 0; row.GetBinary($"Body{i}") is { } chunk; i++)
        {
            body.Write(chunk);
        }

        return Encoding.UTF8.GetString(body.ToArray());
    }
}
