// One coupon platform environment in one resource group: Log Analytics with Application Insights (the
// apps' OpenTelemetry, its connection string in Key Vault, the workbook), the two user-assigned identities
// (generator, API), the container registry, Key Vault (RBAC), Azure SQL (Entra-only, TLS 1.2+), the Container
// Apps environment and the redeem API. The generator's ACI container groups are made per request, from
// generator-aci.bicep or `coupons launch`. scripts/deploy/deploy.sh runs this twice: first without the API
// (deployApi=false) so images can be pushed and SQL grants made, then with it.
targetScope = 'resourceGroup'

@description('Short name used in every resource name (lower case letters and digits).')
@minLength(3)
@maxLength(10)
param prefix string = 'coupons'

param location string = resourceGroup().location

@description('Microsoft Entra admin of the SQL server: display name of the group (or user / app).')
param sqlAdminLogin string

@description('Object id of that Entra principal.')
param sqlAdminObjectId string

@allowed(['Group', 'User', 'Application'])
param sqlAdminPrincipalType string = 'Group'

@description('Object id of whoever runs deploy.sh: gets Key Vault Secrets Officer to store the API keys. Empty: none.')
param deployerObjectId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
param deployerPrincipalType string = 'User'

@description('Deploy the Container App of the redeem API (needs apiImage in the registry).')
param deployApi bool = false

@description('Image of the redeem API, e.g. <registry>.azurecr.io/coupons-redeem-api:<tag>.')
param apiImage string = ''

@description('Entra ID callers: the API app registration: its client id and/or App ID URI (comma-separated) whose tokens the API accepts beside API keys. Empty: API keys only.')
param apiEntraAudience string = ''

@description('Tenant whose tokens the API accepts (default: the tenant of this deployment).')
param apiEntraTenantId string = tenant().tenantId

param apiMinReplicas int = 1
param apiMaxReplicas int = 5

@description('Deploy the generator as Container Apps Jobs (needs generatorImage in the registry).')
param deployJobs bool = false

@description('Image of the generator, e.g. <registry>.azurecr.io/coupons-generator:<tag>.')
param generatorImage string = ''

@description('Let the API identity start generator container groups (custom role, this resource group only).')
param apiCanLaunchGenerator bool = false

@description('Database SKU; the default is serverless General Purpose (pauses when idle).')
param databaseSku object = {
  name: 'GP_S_Gen5'
  tier: 'GeneralPurpose'
  family: 'Gen5'
  capacity: 2
}

var suffix = uniqueString(resourceGroup().id)
var names = {
  workspace: 'log-${prefix}-${suffix}'
  appInsights: 'appi-${prefix}-${suffix}'
  generatorIdentity: 'id-${prefix}-generator'
  apiIdentity: 'id-${prefix}-api'
  registry: take('acr${prefix}${suffix}', 50)
  keyVault: take('kv-${prefix}-${suffix}', 24)
  sqlServer: 'sql-${prefix}-${suffix}'
  database: prefix
  containerEnv: 'cae-${prefix}-${suffix}'
  api: 'ca-${prefix}-api'
  storage: take('st${prefix}${suffix}', 24)
  generationJob: 'caj-${prefix}-generate'
  archiveJob: 'caj-${prefix}-archive'
  purgeJob: 'caj-${prefix}-purge'
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    name: names.workspace
    location: location
  }
}

module identities 'modules/identities.bicep' = {
  name: 'identities'
  params: {
    generatorName: names.generatorIdentity
    apiName: names.apiIdentity
    location: location
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    name: names.registry
    location: location
    pullPrincipalIds: [identities.outputs.generatorPrincipalId, identities.outputs.apiPrincipalId]
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: names.keyVault
    location: location
    readerPrincipalIds: [identities.outputs.generatorPrincipalId, identities.outputs.apiPrincipalId]
    officerPrincipalId: deployerObjectId
    officerPrincipalType: deployerPrincipalType
    workspaceId: monitoring.outputs.workspaceId
  }
}

module appInsights 'modules/appinsights.bicep' = {
  name: 'appinsights'
  params: {
    name: names.appInsights
    location: location
    workspaceId: monitoring.outputs.workspaceId
    keyVaultName: keyVault.outputs.name
  }
}

module sql 'modules/sql.bicep' = {
  name: 'sql'
  params: {
    serverName: names.sqlServer
    databaseName: names.database
    location: location
    adminLogin: sqlAdminLogin
    adminObjectId: sqlAdminObjectId
    adminPrincipalType: sqlAdminPrincipalType
    databaseSku: databaseSku
    workspaceId: monitoring.outputs.workspaceId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    writerPrincipalId: identities.outputs.generatorPrincipalId
  }
}

module environment 'modules/environment.bicep' = {
  name: 'environment'
  params: {
    name: names.containerEnv
    location: location
    workspaceName: monitoring.outputs.workspaceName
  }
}

module api 'modules/containerapp.bicep' = if (deployApi) {
  name: 'api'
  params: {
    environmentId: environment.outputs.id
    appName: names.api
    location: location
    image: apiImage
    identityId: identities.outputs.apiId
    identityClientId: identities.outputs.apiClientId
    registryServer: registry.outputs.loginServer
    sqlServerFqdn: sql.outputs.serverFqdn
    databaseName: sql.outputs.databaseName
    keyVaultUri: keyVault.outputs.vaultUri
    appInsightsSecretName: appInsights.outputs.connectionSecretName
    minReplicas: apiMinReplicas
    maxReplicas: apiMaxReplicas
    entraAudience: apiEntraAudience
    entraTenantId: apiEntraTenantId
  }
}

module jobs 'modules/jobs.bicep' = if (deployJobs) {
  name: 'jobs'
  params: {
    location: location
    environmentId: environment.outputs.id
    image: generatorImage
    identityId: identities.outputs.generatorId
    identityClientId: identities.outputs.generatorClientId
    registryServer: registry.outputs.loginServer
    sqlServerFqdn: sql.outputs.serverFqdn
    databaseName: sql.outputs.databaseName
    keyVaultUri: keyVault.outputs.vaultUri
    appInsightsSecretName: appInsights.outputs.connectionSecretName
    archiveBlobUrl: '${storage.outputs.containerUrl}/redemption-history.jsonl.gz'
    generationJobName: names.generationJob
    archiveJobName: names.archiveJob
    purgeJobName: names.purgeJob
  }
}

module launcher 'modules/launcher-role.bicep' = if (apiCanLaunchGenerator) {
  name: 'launcher-role'
  params: {
    principalId: identities.outputs.apiPrincipalId
  }
}

output workspaceName string = monitoring.outputs.workspaceName
output appInsightsName string = appInsights.outputs.name
output appInsightsConnectionSecretName string = appInsights.outputs.connectionSecretName
output registryName string = registry.outputs.name
output registryLoginServer string = registry.outputs.loginServer
output keyVaultName string = keyVault.outputs.name
output keyVaultUri string = keyVault.outputs.vaultUri
output sqlServerName string = sql.outputs.serverName
output sqlServerFqdn string = sql.outputs.serverFqdn
output databaseName string = sql.outputs.databaseName
output generatorIdentityName string = names.generatorIdentity
output generatorIdentityId string = identities.outputs.generatorId
output generatorIdentityClientId string = identities.outputs.generatorClientId
output apiIdentityName string = names.apiIdentity
output apiIdentityId string = identities.outputs.apiId
output apiIdentityClientId string = identities.outputs.apiClientId
output storageAccountName string = storage.outputs.name
output archiveContainerUrl string = storage.outputs.containerUrl
output generationJobName string = deployJobs ? names.generationJob : ''
output apiUrl string = deployApi ? api.outputs.url : ''
