// Decent Cloud back end as an Azure Functions app (isolated worker, dotnet-isolated) on the Flex Consumption plan.
//
// What this deploys into one resource group:
//   - a storage account: the Functions host's storage (AzureWebJobsStorage: timer locks, queue triggers and their
//     poison queues, the Durable task hub) and the app's own tables, queues and invoice blobs, reached with the app's
//     managed identity only (shared-key access is off), plus the blob container Flex Consumption deploys the app
//     package from;
//   - a Log Analytics workspace and a workspace-based Application Insights component on it;
//   - a Key Vault in RBAC mode: the app's secret settings (read through Key Vault references) and the Functions host's
//     access keys (AzureWebJobsSecretStorageType=keyvault);
//   - a user-assigned managed identity with the data roles the Functions host, Durable Functions and the app need;
//   - a Flex Consumption plan (FC1, Linux) and the function app on it.
//
// docs/deploy.md walks through a deployment; infra/main.parameters.example.json lists the parameters;
// infra/lint.sh compiles and lints this file.

targetScope = 'resourceGroup'

// Parameters

@description('Azure region of every resource. Defaults to the region of the resource group. Flex Consumption is not offered in every region: az functionapp list-flexconsumption-locations lists those that have it.')
param location string = resourceGroup().location

@description('Short lower-case name that the names of the identity, workspace, Application Insights component and plan start with.')
@minLength(2)
@maxLength(20)
param appName string = 'decentcloud'

@description('Name of the function app, which is also its host name (<name>.azurewebsites.net), so it must be unique in Azure: 2-60 letters, digits and hyphens. The default is derived from the resource group.')
@minLength(2)
@maxLength(60)
param functionAppName string = '${appName}-${uniqueString(resourceGroup().id)}'

@description('.NET version of the dotnet-isolated worker (functionAppConfig.runtime.version). 10.0 is the newest version Flex Consumption offers for dotnet-isolated and the version the app targets (net10.0). A lower version runs only an app built for it.')
@allowed([
  '8.0'
  '9.0'
  '10.0'
])
param dotnetVersion string = '10.0'

@description('Memory of each instance in MB. CPU and network bandwidth grow with it, and so does the default HTTP concurrency.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to, across all its scale groups together.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Concurrent HTTP requests one instance takes before Flex Consumption adds another to the HTTP group.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

@description('Always-ready instances per scale group, for example [ { "name": "http", "instanceCount": 1 } ]. Names: "http" (every HTTP function), "durable" (every orchestrator, activity and entity function), or "function:<FunctionName>" (one queue or timer function). They are billed while idle; none by default, so the app scales to zero.')
param alwaysReady array = []

@description('Spread the plan\'s instances over availability zones (needs a region with zones, and at least 2 always-ready instances in each group that has any).')
param zoneRedundant bool = false

@description('Name of the storage account (3-24 lower-case letters and digits, unique in Azure). The default is derived from the resource group.')
@minLength(3)
@maxLength(24)
param storageAccountName string = 'st${uniqueString(resourceGroup().id)}'

@description('Replication of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param storageSku string = 'Standard_LRS'

@description('Days a deleted or overwritten blob, or a deleted blob container, can still be restored (blob soft delete).')
@minValue(1)
@maxValue(365)
param blobSoftDeleteDays int = 7

@description('Blob container that Flex Consumption deploys the app package from (3-63 lower-case letters, digits and hyphens).')
@minLength(3)
@maxLength(63)
param deploymentContainerName string = 'app-package'

@description('Name of the Durable Functions task hub: its queues, tables and blob containers in the storage account start with it. Set as the app setting DurableTaskHubName, which host.json reads (extensions.durableTask.hubName = %DurableTaskHubName%). 3-45 letters and digits, starting with a letter. Changing it starts an empty task hub: instances in the old one are no longer run.')
@minLength(3)
@maxLength(45)
param durableTaskHubName string = 'decentcloud'

@description('Name of the Key Vault (3-24 letters, digits and hyphens, unique in Azure). The default is derived from the resource group.')
@minLength(3)
@maxLength(24)
param keyVaultName string = 'kv-${uniqueString(resourceGroup().id)}'

@description('Turns on Key Vault purge protection. Once on, it cannot be turned off, and a deleted vault or secret cannot be purged before its retention ends. Leave it on in production.')
param keyVaultPurgeProtection bool = true

@description('Object ID of a user, group or service principal that may set and read the vault\'s secrets (Key Vault Secrets Officer), for example the operator who runs az keyvault secret set. Empty: no such role assignment.')
param operatorPrincipalId string = ''

@description('Kind of principal that operatorPrincipalId names.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'User'

@description('Secret values to write to Key Vault in this deployment, keyed by setting name, for example { "STRIPE_SECRET_KEY": "sk_live_..." }. Each is stored under the secret name the template reads that setting from (docs/deploy.md lists them). Pass this only on the command line or from a pipeline secret, never in a committed file. Secrets not given here must already be in the vault: the deployment fails on the first one missing.')
@secure()
param secretValues object = {}

@description('Plain (non-secret) settings of the app, keyed by setting name, for example { "EMAIL_FROM": "billing@example.com" } (docs/settings.md lists them). Anything secret belongs in Key Vault. A setting this template manages (storage, keys, Key Vault references, Application Insights, DurableTaskHubName) cannot be overridden here.')
param appSettings object = {}

@description('Refuse telemetry that is not signed in with Microsoft Entra ID (Application Insights DisableLocalAuth). The Functions host sends with the app\'s identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING); turn this on once the worker\'s own telemetry does too.')
param appInsightsLocalAuthDisabled bool = false

@description('Days Log Analytics keeps the app\'s logs and telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Tags for every resource.')
param tags object = {}

// Names and constants

var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// The data roles the app's identity holds on the storage account. Blob Data Owner: the host's timer locks and status
// blobs, the Durable task hub's leases and large messages, the deployment package and the app's invoices. Queue Data
// Contributor: queue triggers and their poison queues, the task hub's control and work-item queues and the app's own
// queues. Table Data Contributor: the task hub's History and Instances tables and the app's state.
var storageRoles = [
  roleIds.storageBlobDataOwner
  roleIds.storageQueueDataContributor
  roleIds.storageTableDataContributor
]

// Key Vault secret name of each secret setting: the setting name in lower case with "_" replaced by "-".
// These are every secret setting the app reads (docs/settings.md marks them "Secret"), except AzureWebJobsStorage,
// which is identity-based here, and the access keys, which the Functions host keeps in the vault itself.
var secretNames = {
  STRIPE_SECRET_KEY: 'stripe-secret-key'
  STRIPE_WEBHOOK_SECRET: 'stripe-webhook-secret'
  SENDGRID_API_KEY: 'sendgrid-api-key'
  CHATWOOT_API_TOKEN: 'chatwoot-api-token'
  CHATWOOT_PLATFORM_TOKEN: 'chatwoot-platform-token'
  CHATWOOT_WEBHOOK_SECRET: 'chatwoot-webhook-secret'
  ICPAY_WEBHOOK_SECRET: 'icpay-webhook-secret'
}

// Monitoring

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${appName}-logs'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${appName}-insights'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: appInsightsLocalAuthDisabled
  }
}

// Storage

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: storageSku
  }
  properties: {
    accessTier: 'Hot'
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    // Everything reaches the account with a Microsoft Entra token (the app's identity, operators with
    // az --auth-mode login); with shared keys off, there is no key that could leak through a setting.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: blobSoftDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: blobSoftDeleteDays
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Identity

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${appName}-identity'
  location: location
  tags: tags
}

resource appUsesStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in storageRoles: {
    name: guid(storage.id, identity.id, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: identity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource appPublishesTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Purge protection cannot be set to false, only left out.
    enablePurgeProtection: keyVaultPurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

// Secrets Officer, not only Secrets User: besides reading the Key Vault references, the Functions host creates and
// rotates its access keys (master, host, function and system keys) as secrets in this vault.
resource appUsesVault 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roleIds.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource operatorManagesSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, roleIds.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

// A key of secretValues that names no secret setting fails the deployment here, naming the key.
resource givenSecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for item in items(secretValues): {
    parent: vault
    name: secretNames[item.key]
    properties: {
      contentType: item.key
      value: item.value
    }
  }
]

// Reading a secret's secretUri makes the deployment fail, naming the secret, when it is not in the vault: an app
// setting whose Key Vault reference cannot be resolved would otherwise hold the reference text as its value.
resource stripeSecretKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: secretNames.STRIPE_SECRET_KEY
}

resource stripeWebhookSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: secretNames.STRIPE_WEBHOOK_SECRET
}

resource sendGridApiKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: secretNames.SENDGRID_API_KEY
}

resource chatwootApiToken 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: secretNames.CHATWOOT_API_TOKEN
}

resource chatwootPlatformToken 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: secretNames.CHATWOOT_PLATFORM_TOKEN
}

resource chatwootWebhookSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: secretNames.CHATWOOT_WEBHOOK_SECRET
}

resource icpayWebhookSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: secretNames.ICPAY_WEBHOOK_SECRET
}

// Function app

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${appName}-plan'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references are resolved with the user-assigned identity (the default would be a system-assigned one).
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      runtime: {
        name: 'dotnet-isolated'
        version: dotnetVersion
      }
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReady
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
    }
  }
  dependsOn: [
    // Flex Consumption reads the package with the identity as soon as there is one to read.
    appUsesStorage
    deploymentContainer
  ]
}

var vaultUri = vault.properties.vaultUri

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  // The last object wins: appSettings may replace the defaults before it, never the managed settings after it.
  properties: union(
    {
      // Where the app's inbox webhooks point; set it in appSettings when a custom domain fronts the app.
      PUBLIC_BASE_URL: 'https://${app.properties.defaultHostName}'
    },
    appSettings,
    {
      // Identity-based AzureWebJobsStorage: no connection string, no key. The Functions host, its queue and timer
      // triggers, Durable Functions and the app's own storage clients read the same settings.
      AzureWebJobsStorage__accountName: storage.name
      AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
      AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
      AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identity.properties.clientId
      // Lets Azure SDK clients built with DefaultAzureCredential pick the same identity.
      AZURE_CLIENT_ID: identity.properties.clientId

      // The Functions host keeps its access keys in the vault: host--masterKey--master, host--functionKey--default,
      // function--<function>--<name>, host--systemKey--<extension>.
      AzureWebJobsSecretStorageType: 'keyvault'
      AzureWebJobsSecretStorageKeyVaultUri: vaultUri
      AzureWebJobsSecretStorageKeyVaultClientId: identity.properties.clientId

      DurableTaskHubName: durableTaskHubName

      APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'

      // Versionless references: the app reads the newest version of each secret.
      STRIPE_SECRET_KEY: '@Microsoft.KeyVault(SecretUri=${stripeSecretKey.properties.secretUri})'
      STRIPE_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${stripeWebhookSecret.properties.secretUri})'
      SENDGRID_API_KEY: '@Microsoft.KeyVault(SecretUri=${sendGridApiKey.properties.secretUri})'
      CHATWOOT_API_TOKEN: '@Microsoft.KeyVault(SecretUri=${chatwootApiToken.properties.secretUri})'
      CHATWOOT_PLATFORM_TOKEN: '@Microsoft.KeyVault(SecretUri=${chatwootPlatformToken.properties.secretUri})'
      CHATWOOT_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${chatwootWebhookSecret.properties.secretUri})'
      ICPAY_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${icpayWebhookSecret.properties.secretUri})'
    }
  )
  dependsOn: [
    // The host reaches storage, the vault and Application Insights with the identity as soon as it starts, and the
    // references above need their secrets in the vault.
    appUsesVault
    appPublishesTelemetry
    givenSecrets
  ]
}

// Outputs

@description('Name of the function app.')
output functionAppName string = app.name

@description('HTTPS address of the app; the API is under /api.')
output appUrl string = 'https://${app.properties.defaultHostName}'

@description('Health endpoint of the app.')
output healthUrl string = 'https://${app.properties.defaultHostName}/api/health'

@description('.NET version of the dotnet-isolated worker.')
output dotnetVersion string = dotnetVersion

@description('Name of the storage account.')
output storageAccountName string = storage.name

@description('Blob container the app package is deployed to.')
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'

@description('Name of the Durable Functions task hub.')
output durableTaskHubName string = durableTaskHubName

@description('Name of the Key Vault.')
output keyVaultName string = vault.name

@description('Address of the Key Vault.')
output keyVaultUri string = vaultUri

@description('Client ID of the app\'s managed identity.')
output identityClientId string = identity.properties.clientId

@description('Principal (object) ID of the app\'s managed identity, for further role assignments.')
output identityPrincipalId string = identity.properties.principalId
