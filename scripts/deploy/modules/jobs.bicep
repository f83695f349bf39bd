// The generator as Azure Container Apps Jobs, the second way to run requests on Azure (docs/deployment.md):
//   - generation: an event-triggered job; KEDA's mssql scaler counts Requested generation requests and
//     starts an execution per waiting request, each running `coupons worker --once` (claims one request,
//     generates it, exits; 0 also when another execution took it first);
//   - archive: a scheduled job each quarter running `ops-main archive` with the archive file in Blob
//     storage through the generator identity (COUPONS_ARCHIVE_BLOB_URL), not on the container's disk;
//   - purge: a scheduled job each day running `ops-main purge-idempotency-keys` (the API's database
//     role, coupon_api, may not purge them).
// All run as the generator identity (Azure SQL, Key Vault, image pull, the archive container), which
// deploy.sh makes a member of coupon_generator and coupon_ops.
param location string
param environmentId string
param image string
param identityId string
param identityClientId string
param registryServer string
param sqlServerFqdn string
param databaseName string
param keyVaultUri string
param archiveBlobUrl string
param generationJobName string
param archiveJobName string
param purgeJobName string

@description('Key Vault secret holding the Application Insights connection string (empty: no telemetry).')
param appInsightsSecretName string = ''

@description('Key Vault secret with the KEDA mssql scaler connection string (see docs/deployment.md).')
param scalerConnectionSecretName string = 'coupons-scaler-connection'

@description('Executions at once at most (each one request).')
param maxExecutions int = 10

@description('The quarterly archive: 03:00 UTC on the first day of each quarter.')
param archiveCron string = '0 3 1 1,4,7,10 *'

@description('The idempotency key purge: 04:00 UTC each day, keys older than 7 days (the default retention of the API).')
param purgeCron string = '0 4 * * *'

// traces and metrics (OpenTelemetry) to Application Insights: its connection string as a Key Vault reference
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

var env = concat(telemetryEnv, [
  { name: 'COUPONS_MSSQL_SERVER', value: sqlServerFqdn }
  { name: 'COUPONS_MSSQL_DATABASE', value: databaseName }
  { name: 'COUPONS_MSSQL_AUTH', value: 'managed-identity' }
  { name: 'COUPONS_MSSQL_CLIENT_ID', value: identityClientId }
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
  { name: 'COUPONS_KEYVAULT_URL', value: keyVaultUri }
  { name: 'COUPONS_KEYVAULT_CLIENT_ID', value: identityClientId }
])

// KEDA polls this; each waiting request is one execution
var countRequested = '''
SELECT COUNT(*) FROM dbo.GenerationRequests WHERE Status = N'Requested'
'''

var identity = {
  type: 'UserAssigned'
  userAssignedIdentities: {
    '${identityId}': {}
  }
}

var registries = [
  {
    server: registryServer
    identity: identityId
  }
]

resource generation 'Microsoft.App/jobs@2024-03-01' = {
  name: generationJobName
  location: location
  identity: identity
  properties: {
    environmentId: environmentId
    configuration: {
      triggerType: 'Event'
      // a request may take hours; a worker that is stopped leaves it resumable for the next execution
      replicaTimeout: 14400
      // 0: the worker retries transient failures itself; a permanent one is Failed with its reason
      replicaRetryLimit: 0
      registries: registries
      secrets: concat(telemetrySecrets, [
        {
          name: 'scaler-connection'
          keyVaultUrl: '${keyVaultUri}secrets/${scalerConnectionSecretName}'
          identity: identityId
        }
      ])
      eventTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
        scale: {
          minExecutions: 0
          maxExecutions: maxExecutions
          pollingInterval: 30
          rules: [
            {
              name: 'requested-generation-requests'
              type: 'mssql'
              metadata: {
                query: countRequested
                targetValue: '1'
              }
              auth: [
                {
                  secretRef: 'scaler-connection'
                  triggerParameter: 'connectionString'
                }
              ]
            }
          ]
        }
      }
    }
    template: {
      containers: [
        {
          name: 'generator'
          image: image
          command: ['node', 'apps/generator/dist/main.js']
          args: ['worker', '--once']
          resources: {
            cpu: json('1')
            memory: '2Gi'
          }
          env: env
        }
      ]
    }
  }
}

resource archive 'Microsoft.App/jobs@2024-03-01' = {
  name: archiveJobName
  location: location
  identity: identity
  properties: {
    environmentId: environmentId
    configuration: {
      triggerType: 'Schedule'
      replicaTimeout: 14400
      // a killed or failed run is re-runnable: the blob's state makes the next run exact
      replicaRetryLimit: 2
      registries: registries
      secrets: telemetrySecrets
      scheduleTriggerConfig: {
        cronExpression: archiveCron
        parallelism: 1
        replicaCompletionCount: 1
      }
    }
    template: {
      containers: [
        {
          name: 'archive'
          image: image
          command: ['node', 'apps/generator/dist/ops-main.js']
          args: ['archive']
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: concat(env, [{ name: 'COUPONS_ARCHIVE_BLOB_URL', value: archiveBlobUrl }])
        }
      ]
    }
  }
}

resource purge 'Microsoft.App/jobs@2024-03-01' = {
  name: purgeJobName
  location: location
  identity: identity
  properties: {
    environmentId: environmentId
    configuration: {
      triggerType: 'Schedule'
      replicaTimeout: 3600
      // re-runnable: each batch deletes what is still older than the retention
      replicaRetryLimit: 2
      registries: registries
      secrets: telemetrySecrets
      scheduleTriggerConfig: {
        cronExpression: purgeCron
        parallelism: 1
        replicaCompletionCount: 1
      }
    }
    template: {
      containers: [
        {
          name: 'purge'
          image: image
          command: ['node', 'apps/generator/dist/ops-main.js']
          args: ['purge-idempotency-keys', '--retention-hours', '168']
          resources: {
            cpu: json('0.25')
            memory: '0.5Gi'
          }
          env: env
        }
      ]
    }
  }
}

output generationJobName string = generation.name
output archiveJobName string = archive.name
output purgeJobName string = purge.name
