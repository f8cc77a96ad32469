using System.ComponentModel.DataAnnotations;

namespace DecentCloud.Functions.Hosting.Http;

/// <summary>
/// Function keys as Azure Functions has them, read from settings rather than from the host's key store:
/// the master key (admin level), named host keys (function level, every function) and named keys
/// per function (function level, that function only).
/// </summary>
public sealed class FunctionKeysOptions : IValidatableObject
{
    public const string MasterKeySetting = "FUNCTIONS_MASTER_KEY";
    public const string HostKeysSetting = "FUNCTIONS_HOST_KEYS";
    public const string FunctionKeysSetting = "FUNCTIONS_FUNCTION_KEYS";
    public const int MinimumKeyLength = 32;

    [ConfigurationKeyName(MasterKeySetting)]
    [Required(ErrorMessage = "The setting FUNCTIONS_MASTER_KEY is required (the admin key, at least 32 characters).")]
    public string MasterKey { get; set; } = "";

    /// <summary><c>FUNCTIONS_HOST_KEYS__{name}</c>: keys accepted by every function-level function.</summary>
    [ConfigurationKeyName(HostKeysSetting)]
    public Dictionary<string, string> HostKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary><c>FUNCTIONS_FUNCTION_KEYS__{function}__{name}</c>: keys accepted by one function.</summary>
    [ConfigurationKeyName(FunctionKeysSetting)]
    public Dictionary<string, Dictionary<string, string>> FunctionKeys { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MasterKey.Length is > 0 and < MinimumKeyLength)
        {
            yield return new ValidationResult($"The setting {MasterKeySetting} must be at least {MinimumKeyLength} characters.", [nameof(MasterKey)]);
        }

        foreach (var (name, key) in HostKeys)
        {
            if (key.Length < MinimumKeyLength)
            {
                yield return new ValidationResult($"The setting {HostKeysSetting}__{name} must be at least {MinimumKeyLength} characters.", [nameof(HostKeys)]);
            }
        }

        foreach (var (function, keys) in FunctionKeys)
        {
            foreach (var (name, key) in keys)
            {
                if (key.Length < MinimumKeyLength)
                {
                    yield return new ValidationResult($"The setting {FunctionKeysSetting}__{function}__{name} must be at least {MinimumKeyLength} characters.", [nameof(FunctionKeys)]);
                }
            }
        }
    }
}
