// Decent Cloud back end on Azure Container Apps.
//
// What this deploys into one resource group:
//   - a storage account (tables, queues, blobs) that the app reads as AzureWebJobsStorage;
//   - a Log Analytics workspace and an Application Insights component on it;
//   - a Key Vault in RBAC mode that holds the app's secrets;
//   - a user-assigned managed identity that may read those secrets (and pull the image);
//   - a Container Apps environment and the container app, whose secrets are Key Vault references,
//     with a readiness probe on /api/health and a KEDA azure-queue scale rule.
//
// docs/deploy.md walks through a deployment; infra/main.parameters.example.json lists the parameters.

targetScope = 'resourceGroup'

// Parameters

@description('Azure region of every resource. Defaults to the region of the resource group.')
param location string = resourceGroup().location

@description('Short lower-case name that the names of the identity, workspace, Application Insights, environment and container app start with.')
@minLength(2)
@maxLength(20)
param appName string = 'decentcloud'

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

@description('Admin (master) key of the app, at least 32 characters. Written to the Key Vault secret functions-master-key. Required on the first deployment; when empty, the secret already in the vault is kept.')
@secure()
param functionsMasterKey string = ''

@description('Names of further settings whose values live in Key Vault, for example [ "STRIPE_SECRET_KEY", "FUNCTIONS_HOST_KEYS__default" ]. Each becomes an environment variable of the container, read from the Key Vault secret whose name is the setting name in lower case with "_" replaced by "-" (STRIPE_SECRET_KEY -> stripe-secret-key). The secret must exist in the vault before the deployment, or be given in secretValues.')
param secretSettings array = []

@description('Values to write to Key Vault now, keyed by setting name, for example { "STRIPE_SECRET_KEY": "sk_live_..." }. Each is stored under the derived secret name (see secretSettings) and wired into the container like a name in secretSettings. Pass this only on the command line or from a pipeline secret, never in a committed file.')
@secure()
param secretValues object = {}

@description('Further plain (non-secret) settings for the container, keyed by setting name, for example { "STRIPE_API_BASE": "https://api.stripe.com" }.')
param appSettings object = {}

@description('Container image to run, with its registry and tag, for example myregistry.azurecr.io/decentcloud-functions:0.1.0.')
param containerImage string

@description('Name of an Azure Container Registry in this resource group that holds the image. The app\'s identity is given AcrPull on it and pulls with it. Empty: the image is pulled without credentials (a public image).')
param containerRegistryName string = ''

@description('Port the app listens on inside the container: set as FUNCTIONS_HTTP_PORT and used as the ingress target port and probe port.')
@minValue(1)
@maxValue(65535)
param httpPort int = 8080

@description('FUNCTIONS_HOST_ID: names the timer lock and schedule-status blobs in the container azure-webjobs-hosts. Every replica of one app shares it; two apps on one storage account must not. 1-32 lower-case letters, digits or hyphens, starting with a letter or digit.')
@minLength(1)
@maxLength(32)
param functionsHostId string = 'decentcloud'

@description('Serve the app on a public HTTPS address (true) or only inside the Container Apps environment (false).')
param externalIngress bool = true

@description('CPU cores of the container. Allowed pairs on the Consumption profile: 0.25/0.5Gi, 0.5/1Gi, 0.75/1.5Gi, 1/2Gi, 1.25/2.5Gi, 1.5/3Gi, 1.75/3.5Gi, 2/4Gi, up to 4/8Gi.')
param containerCpu string = '0.5'

@description('Memory of the container; see containerCpu for the allowed pairs.')
param containerMemory string = '1Gi'

@description('Fewest replicas. Keep at least 1: timer functions and queue functions other than the scaled queue run only while a replica runs.')
@minValue(0)
@maxValue(1000)
param minReplicas int = 1

@description('Most replicas. Any number is safe: queue messages are shared between replicas, and each timer occurrence fires on one replica only.')
@minValue(1)
@maxValue(1000)
param maxReplicas int = 10

@description('Queue whose length drives scale-out (KEDA azure-queue scaler). The queue is created by this deployment if it is missing.')
@minLength(3)
@maxLength(63)
param scaleQueueName string = 'work-items'

@description('Target number of messages per replica in scaleQueueName: 100 waiting messages with a target of 20 ask for 5 replicas.')
@minValue(1)
param scaleQueueLength int = 20

@description('How the scaler counts scaleQueueName: "all" counts every message, including those being processed and those sent with a visibility delay; "visibleonly" counts only messages that can be received now (it peeks, and falls back to "all" at 32 or more). Use "visibleonly" when the queue holds delayed messages, such as workflow timers, so that they do not keep replicas running before they are due.')
@allowed([
  'all'
  'visibleonly'
])
param scaleQueueLengthStrategy string = 'all'

@description('Target number of concurrent HTTP requests per replica (HTTP scale rule).')
@minValue(1)
param httpConcurrentRequests int = 50

@description('Days Log Analytics keeps the app\'s logs and telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Tags for every resource.')
param tags object = {}

// Names and constants

var roleIds = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
}

// Key Vault secret names, which are also the container app's secret names.
var storageSecretName = 'azurewebjobsstorage'
var masterKeySecretName = 'functions-master-key'

// Settings read from Key Vault besides the two above: the names listed, plus those given a value now.
var keyVaultSettingNames = union(secretSettings, objectKeys(secretValues))
var keyVaultSettings = [
  for setting in keyVaultSettingNames: {
    setting: setting
    secret: toLower(replace(setting, '_', '-'))
  }
]

var useRegistry = !empty(containerRegistryName)

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
  }
}

// Storage: tables hold state, blobs hold invoices and timer leases, queues carry the work

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
    // The app connects with a connection string (AzureWebJobsStorage), which needs shared-key access.
    allowSharedKeyAccess: true
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

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// The scaler reads this queue's length; it must exist before the first replica creates it.
resource scaleQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: scaleQueueName
}

// Identity and Key Vault

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${appName}-identity'
  location: location
  tags: tags
}

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

resource storageSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: storageSecretName
  properties: {
    contentType: 'storage connection string (AzureWebJobsStorage)'
    value: 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
  }
}

resource masterKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(functionsMasterKey)) {
  parent: vault
  name: masterKeySecretName
  properties: {
    contentType: 'FUNCTIONS_MASTER_KEY'
    value: functionsMasterKey
  }
}

resource extraSecrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for item in items(secretValues): {
    parent: vault
    name: toLower(replace(item.key, '_', '-'))
    properties: {
      contentType: item.key
      value: item.value
    }
  }
]

resource appReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
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

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = if (useRegistry) {
  name: useRegistry ? containerRegistryName : 'unused'
}

resource appPullsImage 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useRegistry) {
  name: guid(resourceGroup().id, containerRegistryName, identity.id, roleIds.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.acrPull)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Container Apps

resource appEnvironment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${appName}-env'
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

var secretUrlPrefix = '${vault.properties.vaultUri}secrets/'

var containerSecrets = concat(
  [
    {
      name: storageSecretName
      keyVaultUrl: '${secretUrlPrefix}${storageSecretName}'
      identity: identity.id
    }
    {
      name: masterKeySecretName
      keyVaultUrl: '${secretUrlPrefix}${masterKeySecretName}'
      identity: identity.id
    }
  ],
  map(keyVaultSettings, s => {
    name: s.secret
    keyVaultUrl: '${secretUrlPrefix}${s.secret}'
    identity: identity.id
  })
)

var baseEnv = [
  {
    name: 'AzureWebJobsStorage'
    secretRef: storageSecretName
  }
  {
    name: 'FUNCTIONS_MASTER_KEY'
    secretRef: masterKeySecretName
  }
  {
    name: 'FUNCTIONS_HTTP_ADDRESS'
    value: '0.0.0.0'
  }
  {
    name: 'FUNCTIONS_HTTP_PORT'
    value: string(httpPort)
  }
  {
    name: 'FUNCTIONS_HOST_ID'
    value: functionsHostId
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
  {
    // Lets Azure SDK clients that use DefaultAzureCredential pick the app's identity.
    name: 'AZURE_CLIENT_ID'
    value: identity.properties.clientId
  }
]

var secretEnv = map(keyVaultSettings, s => {
  name: s.setting
  secretRef: s.secret
})

var plainEnv = map(items(appSettings), item => {
  name: item.key
  value: string(item.value)
})

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: appName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: appEnvironment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: externalIngress
        targetPort: httpPort
        transport: 'auto'
        allowInsecure: false
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      secrets: containerSecrets
      registries: useRegistry
        ? [
            {
              server: registry!.properties.loginServer
              identity: identity.id
            }
          ]
        : []
    }
    template: {
      containers: [
        {
          name: 'functions'
          image: containerImage
          resources: {
            cpu: json(containerCpu)
            memory: containerMemory
          }
          env: concat(baseEnv, secretEnv, plainEnv)
          probes: [
            {
              // Up once Kestrel accepts connections; storage may still be starting.
              type: 'Startup'
              tcpSocket: {
                port: httpPort
              }
              initialDelaySeconds: 1
              periodSeconds: 3
              failureThreshold: 10
            }
            {
              type: 'Liveness'
              tcpSocket: {
                port: httpPort
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              // /api/health answers 503 while storage is unreachable: the replica then gets no HTTP
              // traffic, but is not restarted (a storage outage is not cured by a restart).
              type: 'Readiness'
              httpGet: {
                path: '/api/health'
                port: httpPort
                scheme: 'HTTP'
              }
              periodSeconds: 10
              timeoutSeconds: 5
              failureThreshold: 3
              successThreshold: 1
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'queue-length'
            custom: {
              type: 'azure-queue'
              metadata: union(
                {
                  queueName: scaleQueueName
                  queueLength: string(scaleQueueLength)
                  accountName: storage.name
                },
                scaleQueueLengthStrategy == 'all' ? {} : { queueLengthStrategy: scaleQueueLengthStrategy }
              )
              auth: [
                {
                  secretRef: storageSecretName
                  triggerParameter: 'connection'
                }
              ]
            }
          }
          {
            name: 'http-requests'
            http: {
              metadata: {
                concurrentRequests: string(httpConcurrentRequests)
              }
            }
          }
        ]
      }
    }
  }
  dependsOn: [
    // The revision reads its Key Vault secrets and pulls its image as soon as it is created.
    appReadsSecrets
    appPullsImage
    storageSecret
    masterKeySecret
    extraSecrets
    scaleQueue
  ]
}

// Outputs

@description('HTTPS address of the app; the API is under /api.')
output appUrl string = 'https://${app.properties.configuration.ingress.fqdn}'

@description('Health endpoint of the app.')
output healthUrl string = 'https://${app.properties.configuration.ingress.fqdn}/api/health'

@description('Name of the container app.')
output containerAppName string = app.name

@description('Name of the storage account (AzureWebJobsStorage).')
output storageAccountName string = storage.name

@description('Name of the Key Vault that holds the app\'s secrets.')
output keyVaultName string = vault.name

@description('URI of the Key Vault.')
output keyVaultUri string = vault.properties.vaultUri

@description('Client ID of the app\'s user-assigned managed identity.')
output identityClientId string = identity.properties.clientId

@description('Principal (object) ID of the app\'s user-assigned managed identity.')
output identityPrincipalId string = identity.properties.principalId
