// The generator job for one generation request, as an ACI container group: the same group `coupons launch`
// builds (apps/generator/src/aci.ts, GROUP_DEFAULTS: name, restart policy, resources, container name, tags;
// scripts/test/deploy.test.ts fails when they drift), plus its logs to Log Analytics. Deploy per request:
//   az deployment group create -g <rg> -f scripts/deploy/generator-aci.bicep \
//     -p requestId=<id> containerGroupName=<name from `coupons launch --request-id <id> --dry-run`> ...
// restartPolicy Never: ACI's OnFailure would restart permanent exits (2 usage, 3 refused) forever;
// `coupons dispatch` re-launches resumable ones (docs/deployment.md).
targetScope = 'resourceGroup'

@description('The generation request id (COUPONS_REQUEST_ID).')
@minLength(1)
@maxLength(100)
param requestId string

@description('Container group name, as `coupons launch --request-id <id> --dry-run` prints it (coupons-gen-<slug>-<sha256 8>).')
@minLength(13)
@maxLength(63)
param containerGroupName string

param location string = resourceGroup().location
param image string
param generatorIdentityName string
param sqlServerFqdn string
param databaseName string
param keyVaultUri string = ''
param workspaceName string
param cpu int = 1
param memoryInGB string = '1.5'

@description('Application Insights of the environment (main.bicep output appInsightsName; empty: no telemetry). ACI has no Key Vault references: its connection string becomes a secure value, which ARM never returns.')
param appInsightsName string = ''

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: generatorIdentityName
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource insights 'Microsoft.Insights/components@2020-02-02' existing = if (!empty(appInsightsName)) {
  name: empty(appInsightsName) ? 'none' : appInsightsName
}

var baseEnv = [
  { name: 'COUPONS_REQUEST_ID', value: requestId }
  { name: 'COUPONS_MSSQL_SERVER', value: sqlServerFqdn }
  { name: 'COUPONS_MSSQL_DATABASE', value: databaseName }
  { name: 'COUPONS_MSSQL_AUTH', value: 'managed-identity' }
  { name: 'COUPONS_MSSQL_CLIENT_ID', value: identity.properties.clientId }
  { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
]
var vaultEnv = empty(keyVaultUri)
  ? []
  : [
      { name: 'COUPONS_KEYVAULT_URL', value: keyVaultUri }
      { name: 'COUPONS_KEYVAULT_CLIENT_ID', value: identity.properties.clientId }
    ]

var telemetryEnv = empty(appInsightsName)
  ? []
  : [{ name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', secureValue: insights!.properties.ConnectionString }]

resource group 'Microsoft.ContainerInstance/containerGroups@2023-05-01' = {
  name: containerGroupName
  location: location
  tags: {
    app: 'coupons-generator'
    'coupons-request-id': requestId
    'coupons-attempt': '1'
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    osType: 'Linux'
    restartPolicy: 'Never'
    imageRegistryCredentials: [
      {
        server: split(image, '/')[0]
        identity: identity.id
      }
    ]
    containers: [
      {
        name: 'generator'
        properties: {
          image: image
          resources: {
            requests: {
              cpu: cpu
              memoryInGB: json(memoryInGB)
            }
          }
          environmentVariables: concat(baseEnv, vaultEnv, telemetryEnv)
        }
      }
    ]
    diagnostics: {
      logAnalytics: {
        workspaceId: workspace.properties.customerId
        workspaceKey: workspace.listKeys().primarySharedKey
      }
    }
  }
}

output containerGroupName string = group.name
