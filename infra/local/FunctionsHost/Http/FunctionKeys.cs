using System.Security.Cryptography;
using System.Text;

namespace DecentCloud.FunctionsHost.Http;

/// <summary>The authorization levels of an HTTP trigger.</summary>
internal enum AuthorizationLevel
{
    /// <summary>No key needed.</summary>
    Anonymous,

    /// <summary>A key of this function, a host key or the master key.</summary>
    Function,

    /// <summary>The master key only.</summary>
    Admin,
}

/// <summary>The key a call was let in with: "master", "host/{name}" or "function/{name}".</summary>
internal sealed record FunctionCaller(string KeyName, AuthorizationLevel Level);

/// <summary>
/// Function keys as Azure Functions has them, read from settings rather than from a key store: the master key
/// (<c>FUNCTIONS_MASTER_KEY</c>, admin level), named host keys (<c>FUNCTIONS_HOST_KEYS__{name}</c>, every function-level
/// function) and named keys per function (<c>FUNCTIONS_FUNCTION_KEYS__{function}__{name}</c>, that function only).
/// </summary>
internal sealed class FunctionKeys
{
    public const string MasterKeySetting = "FUNCTIONS_MASTER_KEY";
    public const string HostKeysSetting = "FUNCTIONS_HOST_KEYS";
    public const string FunctionKeysSetting = "FUNCTIONS_FUNCTION_KEYS";
    public const string HeaderName = "x-functions-key";
    public const string QueryName = "code";
    public const int MinimumKeyLength = 32;

    private readonly string masterKey;
    private readonly IReadOnlyList<(string Name, string Key)> hostKeys;
    private readonly IReadOnlyDictionary<string, IReadOnlyList<(string Name, string Key)>> functionKeys;

    private FunctionKeys(string masterKey, IReadOnlyList<(string, string)> hostKeys, IReadOnlyDictionary<string, IReadOnlyList<(string, string)>> functionKeys)
    {
        this.masterKey = masterKey;
        this.hostKeys = hostKeys;
        this.functionKeys = functionKeys;
    }

    public bool HasMasterKey => masterKey.Length > 0;

    public static FunctionKeys Load(IConfiguration configuration)
    {
        var master = configuration[MasterKeySetting] ?? "";
        Check(MasterKeySetting, master, allowEmpty: true);
        var hosts = configuration.GetSection(HostKeysSetting).GetChildren()
            .Select(key => (key.Key, Check($"{HostKeysSetting}__{key.Key}", key.Value ?? "", allowEmpty: false)))
            .ToList();
        var functions = configuration.GetSection(FunctionKeysSetting).GetChildren().ToDictionary(
            function => function.Key,
            function => (IReadOnlyList<(string, string)>)function.GetChildren()
                .Select(key => (key.Key, Check($"{FunctionKeysSetting}__{function.Key}__{key.Key}", key.Value ?? "", allowEmpty: false)))
                .ToList(),
            StringComparer.OrdinalIgnoreCase);
        return new FunctionKeys(master, hosts, functions);
    }

    /// <summary>The key the caller presented: the <c>x-functions-key</c> header, else the <c>code</c> query parameter.</summary>
    public static string? PresentedKey(HttpRequest request)
    {
        string? presented = request.Headers[HeaderName];
        return string.IsNullOrEmpty(presented) ? request.Query[QueryName] : presented;
    }

    /// <summary>Who the key belongs to, if it opens a function of this level; null if it does not.</summary>
    public FunctionCaller? Match(string function, AuthorizationLevel level, string presented)
    {
        var presentedHash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        if (Same(presentedHash, masterKey))
        {
            return new FunctionCaller("master", AuthorizationLevel.Admin);
        }

        if (level == AuthorizationLevel.Admin)
        {
            return null;
        }

        FunctionCaller? match = null;
        foreach (var (name, key) in hostKeys)
        {
            if (Same(presentedHash, key))
            {
                match ??= new FunctionCaller($"host/{name}", AuthorizationLevel.Function);
            }
        }

        if (functionKeys.TryGetValue(function, out var own))
        {
            foreach (var (name, key) in own)
            {
                if (Same(presentedHash, key))
                {
                    match ??= new FunctionCaller($"function/{name}", AuthorizationLevel.Function);
                }
            }
        }

        return match;
    }

    private static string Check(string setting, string key, bool allowEmpty) =>
        (key.Length == 0 && allowEmpty) || key.Length >= MinimumKeyLength
            ? key
            : throw new InvalidOperationException($"The setting {setting} must be at least {MinimumKeyLength} characters.");

    // Hashing both sides first gives equal lengths, so the comparison's time says nothing about the key.
    private static bool Same(byte[] presentedHash, string key) =>
        key.Length > 0 && CryptographicOperations.FixedTimeEquals(presentedHash, SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
