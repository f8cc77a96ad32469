using System.Text;
using DecentCloud.Shared.Signing;

namespace DecentCloud.Agent;

/// <summary>
/// <c>dc-agent keygen</c> and <c>dc-agent request</c>: make a signing key, and send one request signed the way
/// every Decent Cloud client signs (docs/signing.md), so users and providers can call the API by hand.
/// </summary>
internal static class SignedRequestCommand
{
    public const string Usage = """
        Usage: dc-agent keygen <key-file>
               dc-agent request <METHOD> <URL> --key-file <key-file> [--data <json> | --data @<file>]

        keygen   writes a new Ed25519 secret seed (hex) to <key-file> (refuses to overwrite one) and prints the public key.
        request  sends one request signed with the key in <key-file> (X-Public-Key, X-Signature, X-Timestamp, X-Nonce),
                 JSON body from --data, and prints the status line and the response body.
                 Exit code 0 for a 2xx answer, 1 otherwise, 2 for a bad command line.
        """;

    public static async Task<int> KeygenAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Count != 1)
        {
            await stderr.WriteLineAsync($"dc-agent keygen: needs exactly one key file path.\n{Usage}");
            return 2;
        }

        var key = Ed25519phKey.Generate();
        try
        {
            // CreateNew: an existing key file is never overwritten.
            await using var file = new FileStream(args[0], FileMode.CreateNew, FileAccess.Write);
            await using var writer = new StreamWriter(file);
            await writer.WriteLineAsync(key.ExportSeedHex());
        }
        catch (IOException ex)
        {
            await stderr.WriteLineAsync($"dc-agent keygen: cannot write {args[0]}: {ex.Message}");
            return 1;
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(args[0], UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await stdout.WriteLineAsync(key.PublicKey.Hex);
        return 0;
    }

    public static async Task<int> RequestAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, TimeProvider time, CancellationToken cancellationToken)
    {
        string? keyFile = null;
        string? data = null;
        var positional = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--key-file" when i + 1 < args.Count:
                    keyFile = args[++i];
                    break;
                case "--data" when i + 1 < args.Count:
                    data = args[++i];
                    break;
                default:
                    positional.Add(args[i]);
                    break;
            }
        }

        if (positional.Count != 2 || keyFile is null || !Uri.TryCreate(positional[1], UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            await stderr.WriteLineAsync($"dc-agent request: needs a method, an absolute http(s) URL and --key-file.\n{Usage}");
            return 2;
        }

        Ed25519phKey key;
        string? body;
        try
        {
            key = Ed25519phKey.FromSeedHex((await File.ReadAllTextAsync(keyFile, cancellationToken)).Trim());
            body = data is ['@', .. var path] ? await File.ReadAllTextAsync(path, cancellationToken) : data;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentException)
        {
            await stderr.WriteLineAsync($"dc-agent request: {ex.Message}");
            return 1;
        }

        using var client = new HttpClient(new SigningHandler(key, time, new SocketsHttpHandler()));
        using var request = new HttpRequestMessage(new HttpMethod(positional[0].ToUpperInvariant()), url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        try
        {
            using var response = await client.SendAsync(request, cancellationToken);
            await stdout.WriteLineAsync($"{(int)response.StatusCode} {response.ReasonPhrase}");
            await stdout.WriteLineAsync(await response.Content.ReadAsStringAsync(cancellationToken));
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (HttpRequestException ex)
        {
            await stderr.WriteLineAsync($"dc-agent request: {url} did not answer: {ex.Message}");
            return 1;
        }
    }
}
