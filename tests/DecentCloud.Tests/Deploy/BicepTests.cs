using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DecentCloud.Testing;

namespace DecentCloud.Tests.Deploy;

/// <summary>
/// What infra/main.bicep deploys, read from the ARM template the Bicep CLI compiles it to: nothing here talks to Azure,
/// so a real deployment is still the proof that Azure accepts it (docs/deploy.md says what was verified).
/// </summary>
public sealed partial class BicepTests(CompiledTemplate template) : IClassFixture<CompiledTemplate>
{
    private static readonly Dictionary<string, string> Roles = new(StringComparer.Ordinal)
    {
        ["Storage Blob Data Owner"] = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        ["Storage Queue Data Contributor"] = "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        ["Storage Table Data Contributor"] = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        ["Key Vault Secrets Officer"] = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        ["Monitoring Metrics Publisher"] = "3913510d-42f4-4e42-8a64-420c390055eb",
    };

    /// <summary>The dotnet-isolated versions Flex Consumption offers (docs/deploy.md says where that was read).</summary>
    private static readonly string[] DotnetVersions = ["8.0", "9.0", "10.0"];

    private static readonly int[] InstanceMemorySizes = [512, 2048, 4096];

    [Fact]
    public void The_template_compiles_and_lints_clean_with_the_bicep_cli_from_nuget()
    {
        Assert.Contains("Bicep CLI version 0.49.2", template.LintOutput, StringComparison.Ordinal);
        Assert.Contains("compiles and lints clean", template.LintOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(": Warning ", template.LintOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_warning_from_the_compiler_fails_the_lint()
    {
        var copy = Directory.CreateTempSubdirectory("dc-bicep-warning-").FullName;
        try
        {
            var infra = Path.Combine(RepositoryRoot.Path, "infra");
            Directory.CreateDirectory(Path.Combine(copy, "bicep"));
            foreach (var file in new[] { "main.bicep", "bicepconfig.json", "lint.sh", "bicep/bicep-cli.csproj" })
            {
                File.Copy(Path.Combine(infra, file), Path.Combine(copy, file));
            }

            // A resource type Bicep has no types for is a warning (BCP081), not an error: the CLI itself exits 0.
            await File.AppendAllTextAsync(
                Path.Combine(copy, "main.bicep"),
                "\nresource unknown 'Microsoft.DecentCloudTest/things@2020-01-01' = {\n  name: 'x'\n}\n");

            var (exitCode, output) = await CompiledTemplate.RunLintAsync(Path.Combine(copy, "lint.sh"));

            Assert.True(exitCode != 0, $"lint.sh passed a template with a warning:{Environment.NewLine}{output}");
            Assert.Contains("BCP081", output, StringComparison.Ordinal);
            Assert.Contains("warnings; they count as failures", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void The_function_app_is_a_linux_function_app_on_a_flex_consumption_plan()
    {
        var plan = template.Resource("Microsoft.Web/serverfarms");
        var app = template.Resource("Microsoft.Web/sites");

        Assert.Equal("FC1", (string?)plan["sku"]?["name"]);
        Assert.Equal("FlexConsumption", (string?)plan["sku"]?["tier"]);
        Assert.True((bool?)plan["properties"]?["reserved"], "a Flex Consumption plan is a Linux plan (reserved: true)");
        Assert.Equal("functionapp,linux", (string?)app["kind"]);
        Assert.Contains("Microsoft.Web/serverfarms", (string?)app["properties"]?["serverFarmId"], StringComparison.Ordinal);
        Assert.True((bool?)app["properties"]?["httpsOnly"]);
    }

    [Fact]
    public void The_worker_is_dotnet_isolated_on_dotnet_10_unless_the_operator_picks_an_older_version()
    {
        var runtime = template.Resource("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["runtime"]!;
        var version = template.Parameter("dotnetVersion");

        Assert.Equal("dotnet-isolated", (string?)runtime["name"]);
        Assert.Equal("[parameters('dotnetVersion')]", (string?)runtime["version"]);
        Assert.Equal("10.0", (string?)version["defaultValue"]);
        Assert.Equal(DotnetVersions, version["allowedValues"]!.AsArray().Select(v => (string)v!));
    }

    [Fact]
    public void The_package_is_deployed_to_a_blob_container_read_with_the_apps_identity()
    {
        var config = template.Resource("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!;
        var storage = config["deployment"]!["storage"]!;

        Assert.Equal("blobContainer", (string?)storage["type"]);
        Assert.Contains("primaryEndpoints.blob", (string?)storage["value"], StringComparison.Ordinal);
        Assert.Contains("parameters('deploymentContainerName')", (string?)storage["value"], StringComparison.Ordinal);
        Assert.Equal("UserAssignedIdentity", (string?)storage["authentication"]?["type"]);
        Assert.Contains("userAssignedIdentities", (string?)storage["authentication"]?["userAssignedIdentityResourceId"], StringComparison.Ordinal);
        Assert.Single(template.Resources("Microsoft.Storage/storageAccounts/blobServices/containers"));
    }

    [Fact]
    public void Scale_and_concurrency_are_parameters_with_flex_consumptions_limits()
    {
        var scale = template.Resource("Microsoft.Web/sites")["properties"]!["functionAppConfig"]!["scaleAndConcurrency"]!;

        Assert.Equal("[parameters('instanceMemoryMB')]", (string?)scale["instanceMemoryMB"]);
        Assert.Equal("[parameters('maximumInstanceCount')]", (string?)scale["maximumInstanceCount"]);
        Assert.Equal("[parameters('alwaysReady')]", (string?)scale["alwaysReady"]);
        Assert.Equal("[parameters('httpPerInstanceConcurrency')]", (string?)scale["triggers"]?["http"]?["perInstanceConcurrency"]);
        Assert.Equal(InstanceMemorySizes, template.Parameter("instanceMemoryMB")["allowedValues"]!.AsArray().Select(v => (int)v!));
        Assert.Equal(1000, (int?)template.Parameter("maximumInstanceCount")["maxValue"]);
        Assert.Empty(template.Parameter("alwaysReady")["defaultValue"]!.AsArray());
    }

    [Fact]
    public void Storage_is_reached_with_the_apps_identity_and_no_setting_or_secret_holds_a_key()
    {
        var settings = template.ManagedAppSettings();
        var storage = template.Resource("Microsoft.Storage/storageAccounts");
        var whole = template.Template.ToJsonString();

        Assert.Equal("parameters('storageAccountName')", settings["AzureWebJobsStorage__accountName"]);
        foreach (var service in new[] { "blob", "queue", "table" })
        {
            Assert.EndsWith($".primaryEndpoints.{service}", settings[$"AzureWebJobsStorage__{service}ServiceUri"], StringComparison.Ordinal);
        }

        Assert.Equal("'managedidentity'", settings["AzureWebJobsStorage__credential"]);
        Assert.EndsWith(".clientId", settings["AzureWebJobsStorage__clientId"], StringComparison.Ordinal);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.False((bool?)storage["properties"]?["allowSharedKeyAccess"], "shared-key access must be off");
        Assert.DoesNotContain("listKeys", whole, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("AccountKey", whole, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("connectionString(", whole, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_apps_identity_holds_the_storage_roles_the_functions_host_and_durable_functions_need()
    {
        var onStorage = Assignments("Microsoft.Storage/storageAccounts").SelectMany(template.RoleIds).ToList();

        Assert.Contains(Roles["Storage Blob Data Owner"], onStorage);
        Assert.Contains(Roles["Storage Queue Data Contributor"], onStorage);
        Assert.Contains(Roles["Storage Table Data Contributor"], onStorage);
        Assert.All(Assignments("Microsoft.Storage/storageAccounts"), a => Assert.Contains(
            "userAssignedIdentities", (string?)a["properties"]?["principalId"], StringComparison.Ordinal));
    }

    [Fact]
    public void The_apps_identity_reads_and_writes_the_vaults_secrets_and_publishes_telemetry()
    {
        var onVault = Assignments("Microsoft.KeyVault/vaults")
            .Where(a => ((string?)a["properties"]?["principalId"] ?? "").Contains("userAssignedIdentities", StringComparison.Ordinal))
            .SelectMany(template.RoleIds);
        var onInsights = Assignments("Microsoft.Insights/components").SelectMany(template.RoleIds);

        Assert.Contains(Roles["Key Vault Secrets Officer"], onVault);
        Assert.Contains(Roles["Monitoring Metrics Publisher"], onInsights);
        Assert.True((bool?)template.Resource("Microsoft.KeyVault/vaults")["properties"]?["enableRbacAuthorization"]);
    }

    [Fact]
    public void Every_secret_setting_in_the_settings_doc_is_a_key_vault_reference_or_kept_by_the_functions_host()
    {
        var secrets = SecretSettingsInDocs();
        var settings = template.ManagedAppSettings();
        var references = settings.Where(s => s.Value.Contains("@Microsoft.KeyVault(SecretUri=", StringComparison.Ordinal)).Select(s => s.Key).ToHashSet();

        Assert.True(secrets.Count >= 6, $"docs/settings.md marks only {secrets.Count} settings as Secret: the table's layout changed");
        foreach (var secret in secrets)
        {
            if (secret == "AzureWebJobsStorage")
            {
                Assert.Contains("AzureWebJobsStorage__accountName", settings.Keys);
            }
            else if (secret.StartsWith("FUNCTIONS_", StringComparison.Ordinal))
            {
                // Access keys are no settings on Azure Functions: the host keeps them, here as secrets in the vault.
                Assert.Equal("'keyvault'", settings["AzureWebJobsSecretStorageType"]);
                Assert.Contains("vaultUri", settings["AzureWebJobsSecretStorageKeyVaultUri"], StringComparison.Ordinal);
            }
            else
            {
                Assert.True(references.Contains(secret), $"{secret} is a secret in docs/settings.md but not a Key Vault reference in infra/main.bicep");
                Assert.Contains(".secretUri)", settings[secret], StringComparison.Ordinal);
            }
        }

        Assert.All(references, r => Assert.Contains(r, secrets));
    }

    [Fact]
    public void Key_vault_references_are_resolved_with_the_apps_identity_and_fail_the_deployment_when_a_secret_is_missing()
    {
        var app = template.Resource("Microsoft.Web/sites");
        var settings = template.ManagedAppSettings();

        Assert.Contains("userAssignedIdentities", (string?)app["properties"]?["keyVaultReferenceIdentity"], StringComparison.Ordinal);
        Assert.All(
            settings.Where(s => s.Value.Contains("@Microsoft.KeyVault", StringComparison.Ordinal)),
            s => Assert.Contains("reference(resourceId('Microsoft.KeyVault/vaults/secrets'", s.Value, StringComparison.Ordinal));
    }

    [Fact]
    public void The_durable_task_hub_name_is_a_parameter_and_the_app_setting_host_json_reads()
    {
        var hub = template.Parameter("durableTaskHubName");

        Assert.Equal("decentcloud", (string?)hub["defaultValue"]);
        Assert.Equal("parameters('durableTaskHubName')", template.ManagedAppSettings()["DurableTaskHubName"]);
    }

    [Fact]
    public void Application_insights_is_workspace_based_and_the_host_sends_with_the_apps_identity()
    {
        var insights = template.Resource("Microsoft.Insights/components");
        var settings = template.ManagedAppSettings();

        Assert.Contains("Microsoft.OperationalInsights/workspaces", (string?)insights["properties"]?["WorkspaceResourceId"], StringComparison.Ordinal);
        Assert.EndsWith(".ConnectionString", settings["APPLICATIONINSIGHTS_CONNECTION_STRING"], StringComparison.Ordinal);
        Assert.Contains("Authorization=AAD", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"], StringComparison.Ordinal);
    }

    [Fact]
    public void The_operators_app_settings_cannot_replace_a_managed_setting()
    {
        var union = template.AppSettingsUnion();

        Assert.Equal(3, union.Count);
        Assert.Equal("parameters('appSettings')", union[1]);
        Assert.StartsWith("createObject(", union[2], StringComparison.Ordinal);
    }

    [Fact]
    public void No_setting_or_property_flex_consumption_refuses_is_set()
    {
        var app = template.Resource("Microsoft.Web/sites");
        var settings = template.AppSettingsUnion();
        var siteConfig = app["properties"]!["siteConfig"]!.AsObject();

        foreach (var setting in new[]
        {
            "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "FUNCTIONS_WORKER_RUNTIME_VERSION", "WEBSITE_RUN_FROM_PACKAGE",
            "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_CONTENTSHARE", "WEBSITE_NODE_DEFAULT_VERSION", "SCM_DO_BUILD_DURING_DEPLOYMENT",
        })
        {
            Assert.DoesNotContain(settings, part => part.Contains($"'{setting}'", StringComparison.Ordinal));
        }

        foreach (var property in new[] { "linuxFxVersion", "netFrameworkVersion", "alwaysOn", "functionAppScaleLimit", "preWarmedInstanceCount", "use32BitWorkerProcess" })
        {
            Assert.False(siteConfig.ContainsKey(property), $"siteConfig.{property} is not allowed on Flex Consumption");
        }
    }

    [Fact]
    public async Task The_example_parameters_name_only_parameters_the_template_declares_with_allowed_values()
    {
        var example = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "infra", "main.parameters.example.json")))!;
        var parameters = example["parameters"]!.AsObject();

        Assert.NotEmpty(parameters);
        foreach (var (name, entry) in parameters)
        {
            var declared = template.Parameter(name);
            var value = entry!["value"]!;
            Assert.False(
                (string?)declared["type"] is "securestring" or "secureObject",
                $"{name} is a secure parameter: it never goes into a parameters file");
            if (declared["allowedValues"] is JsonArray allowed)
            {
                Assert.True(allowed.Any(a => JsonNode.DeepEquals(a, value)), $"{name} = {value.ToJsonString()} is not one of its allowed values");
            }
        }
    }

    private IEnumerable<JsonObject> Assignments(string scopeType) =>
        template.Resources("Microsoft.Authorization/roleAssignments")
            .Where(a => ((string?)a["scope"] ?? "").Contains($"resourceId('{scopeType}'", StringComparison.Ordinal));

    /// <summary>The settings docs/settings.md marks "Secret.", as the table names them (for example <c>FUNCTIONS_HOST_KEYS__{name}</c>).</summary>
    private static HashSet<string> SecretSettingsInDocs() =>
        File.ReadLines(Path.Combine(RepositoryRoot.Path, "docs", "settings.md"))
            .Select(line => SettingsRow().Match(line))
            .Where(row => row.Success && row.Value.Contains("Secret.", StringComparison.Ordinal))
            .Select(row => row.Groups["name"].Value)
            .ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^\|\s*`(?<name>[^`]+)`\s*\|.*$")]
    private static partial Regex SettingsRow();
}
