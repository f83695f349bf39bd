// The redeem API on Azure Container Apps: its user-assigned identity (Azure SQL, Key Vault, image pull),
// HTTPS ingress, liveness /healthz, readiness /readyz (503 while the database is unreachable or the app
// drains), startup probe, HTTP scaling. Logs (stdout JSON lines) go to Log Analytics; traces and metrics
// (OpenTelemetry) to Application Insights, its connection string a Key Vault reference.
param environmentId string
param appName string
param location string
param image string
param identityId string
param identityClientId string
param registryServer string
param sqlServerFqdn string
param databaseName string
param keyVaultUri string
param minReplicas int = 1
param maxReplicas int = 5

@description('Key Vault secret holding the COUPONS_API_KEYS JSON (ids, sha256 hashes, scopes).')
param apiKeysSecretName string = 'coupons-api-keys'

@description('Accept Entra ID access tokens for the app registration of the API: its client id and/or App ID URI, comma-separated. Empty: API keys only.')
param entraAudience string = ''

@description('Tenant whose tokens are accepted (default: the tenant of this deployment).')
param entraTenantId string = tenant().tenantId

var entraEnv = empty(entraAudience)
  ? []
  : [
      { name: 'COUPONS_API_ENTRA_TENANT_ID', value: entraTenantId }
      { name: 'COUPONS_API_ENTRA_AUDIENCE', value: entraAudience }
    ]

@description('Key Vault secret holding the Application Insights connection string (empty: no telemetry).')
param appInsightsSecretName string = ''

var telemetrySecrets = empty(appInsightsSecretName)
  ? []
  : [
      {
        name: 'appinsights-connection'
        keyVaultUrl: '${keyVaultUri}secrets/${appInsightsSecretName}'
        identity: identityId
      }
    ]
var telemetryEnv = empty(appInsightsSecretName)
  ? []
  : [{ name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', secretRef: 'appinsights-connection' }]

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: appName
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environmentId
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 8080
        transport: 'auto'
        allowInsecure: false
      }
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
      secrets: telemetrySecrets
    }
    template: {
      containers: [
        {
          name: 'redeem-api'
          image: image
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: concat(telemetryEnv, [
            { name: 'COUPONS_API_PORT', value: '8080' }
            { name: 'COUPONS_API_HOST', value: '0.0.0.0' }
            // one proxy hop: the Container Apps ingress sets X-Forwarded-For
            { name: 'COUPONS_TRUST_PROXY', value: '1' }
            { name: 'COUPONS_MSSQL_SERVER', value: sqlServerFqdn }
            { name: 'COUPONS_MSSQL_DATABASE', value: databaseName }
            { name: 'COUPONS_MSSQL_AUTH', value: 'managed-identity' }
            { name: 'COUPONS_MSSQL_CLIENT_ID', value: identityClientId }
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
            { name: 'COUPONS_KEYVAULT_URL', value: keyVaultUri }
            { name: 'COUPONS_KEYVAULT_CLIENT_ID', value: identityClientId }
            { name: 'COUPONS_API_KEYS_SECRET', value: apiKeysSecretName }
            // the ingress proxy keeps idle connections to the app: let it close them first
            { name: 'COUPONS_KEEP_ALIVE_TIMEOUT_MS', value: '65000' }
          ], entraEnv)
          probes: [
            {
              type: 'Startup'
              httpGet: { path: '/healthz', port: 8080 }
              periodSeconds: 3
              failureThreshold: 20
            }
            {
              type: 'Liveness'
              httpGet: { path: '/healthz', port: 8080 }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: { path: '/readyz', port: 8080 }
              periodSeconds: 10
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http'
            http: {
              metadata: {
                concurrentRequests: '100'
              }
            }
          }
        ]
      }
    }
  }
}

output url string = 'https://${app.properties.configuration.ingress.fqdn}'
