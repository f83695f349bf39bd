// Optional: lets a principal (the API identity) start generator container groups in this resource group and
// attach the generator's identity to them, and nothing else (a custom role, not Contributor).
param principalId string

var roleName = guid(resourceGroup().id, 'coupons-generator-launcher')

resource launcher 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: roleName
  properties: {
    roleName: 'Coupons generator launcher (${resourceGroup().name})'
    description: 'Create, read and delete ACI container groups and assign user-assigned identities to them.'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: [
          'Microsoft.ContainerInstance/containerGroups/read'
          'Microsoft.ContainerInstance/containerGroups/write'
          'Microsoft.ContainerInstance/containerGroups/delete'
          'Microsoft.ContainerInstance/containerGroups/containers/logs/read'
          'Microsoft.ContainerInstance/locations/operations/read'
          'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action'
          'Microsoft.Resources/subscriptions/resourceGroups/read'
        ]
        notActions: []
      }
    ]
  }
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, launcher.id)
  properties: {
    roleDefinitionId: launcher.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output roleDefinitionId string = launcher.id
