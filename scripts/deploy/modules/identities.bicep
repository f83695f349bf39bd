// The two user-assigned identities. User-assigned (not system-assigned) so that they exist before the apps:
// SQL users, Key Vault and registry roles are granted to them before any container starts.
param generatorName string
param apiName string
param location string

resource generator 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: generatorName
  location: location
}

resource api 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: apiName
  location: location
}

output generatorId string = generator.id
output generatorClientId string = generator.properties.clientId
output generatorPrincipalId string = generator.properties.principalId
output apiId string = api.id
output apiClientId string = api.properties.clientId
output apiPrincipalId string = api.properties.principalId
