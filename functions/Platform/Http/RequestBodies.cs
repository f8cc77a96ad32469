namespace DecentCloud.Functions.Platform.Http;

/// <summary>Reading a whole request body by hand, never more of it than the caller will take.</summary>
public static class RequestBodies
{
    private const int ChunkBytes = 16 * 1024;

    /// <summary>
    /// The body's bytes, or null when it is longer than <paramref name="maxBytes"/>: known from Content-Length before a
    /// byte is read, or, for a chunked body, as soon as the bytes read pass the limit (the rest is left unread).
    /// </summary>
    public static async Task<byte[]?> ReadAtMostAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[ChunkBytes];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
