// Application Insights (workspace-based, on the Log Analytics workspace) for the OpenTelemetry traces and
// metrics of the redeem API and the generator (@azure/monitor-opentelemetry), its connection string kept
// as a Key Vault secret that the apps read as a Key Vault reference, and the coupon platform workbook
// (scripts/deploy/workbook.json: redemptions by outcome, p99 latency, throttled attempts, the queue).
param name string
param location string
param workspaceId string
param keyVaultName string

@description('Key Vault secret that holds the connection string (APPLICATIONINSIGHTS_CONNECTION_STRING in the apps).')
param connectionSecretName string = 'coupons-appinsights-connection'

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: name
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspaceId
    IngestionMode: 'LogAnalytics'
    RetentionInDays: 30
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource connection 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: connectionSecretName
  properties: {
    value: insights.properties.ConnectionString
    contentType: 'Application Insights connection string'
  }
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, insights.id, 'coupons-workbook')
  location: location
  kind: 'shared'
  properties: {
    displayName: 'Coupon platform'
    category: 'workbook'
    sourceId: insights.id
    serializedData: loadTextContent('../workbook.json')
  }
}

output name string = insights.name
output id string = insights.id
output connectionSecretName string = connection.name
