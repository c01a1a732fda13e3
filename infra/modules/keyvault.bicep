// Key Vault for the one secret the app has: the key that encrypts service keys at rest
// (SERVICE_KEYS_SECRET). The app setting is a Key Vault reference, never the value.
param location string
@description('The vault\'s name (3 to 24 letters, digits and dashes, unique in Azure).')
param vaultName string
param tags object
@secure()
param serviceKeysSecret string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'service-keys-secret'
  properties: { value: serviceKeysSecret }
}

output id string = vault.id
output name string = vault.name
output secretUri string = secret.properties.secretUri
