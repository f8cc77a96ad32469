using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace DecentCloud.Functions.Platform.Configuration;

/// <summary>
/// Typed settings as a function app reads them: flat names (<c>AzureWebJobsStorage</c>,
/// <c>STRIPE_SECRET_KEY</c>) bound to properties through <see cref="ConfigurationKeyNameAttribute"/>,
/// validated when the host starts so a missing or bad setting stops it with the setting's name.
/// </summary>
public static class Settings
{
    public static OptionsBuilder<TOptions> AddSettings<TOptions>(this IServiceCollection services, string? section = null)
        where TOptions : class
    {
        services.AddSingleton<IValidateOptions<TOptions>>(new SettingsValidator<TOptions>(section));
        return services.AddOptions<TOptions>()
            .Configure<IConfiguration>((options, configuration) =>
            {
                var source = section is null ? configuration : configuration.GetSection(section);
                try
                {
                    source.Bind(options);
                }
                catch (InvalidOperationException ex)
                {
                    throw new OptionsValidationException(typeof(TOptions).Name, typeof(TOptions), [$"Setting is not valid: {ex.Message}"]);
                }
            })
            .ValidateOnStart();
    }

    /// <summary>The setting name a property is read from.</summary>
    public static string NameOf(PropertyInfo property) =>
        property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name;

    public static string NameOf<TOptions>(string propertyName) =>
        typeof(TOptions).GetProperty(propertyName) is { } property ? NameOf(property) : propertyName;
}

internal sealed class SettingsValidator<TOptions>(string? section) : IValidateOptions<TOptions>
    where TOptions : class
{
    private string Qualified(string member)
    {
        var setting = Settings.NameOf<TOptions>(member);
        return section is null ? setting : $"{section}:{setting}";
    }

    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        if (results.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = results.Select(result =>
        {
            var settings = result.MemberNames.Select(Qualified).ToList();
            var label = settings.Count > 0 ? string.Join(", ", settings) : typeof(TOptions).Name;
            var message = result.ErrorMessage ?? "is not valid";
            foreach (var member in result.MemberNames)
            {
                // DataAnnotations speaks of the property; the operator knows the setting.
                message = message.Replace($"field {member} ", $"setting {Qualified(member)} ", StringComparison.Ordinal);
            }

            return $"{label}: {message}";
        });
        return ValidateOptionsResult.Fail(failures);
    }
}
