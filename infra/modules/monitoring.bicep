// Log Analytics and workspace-based Application Insights: where the app and the scoring server
// send telemetry (OpenTelemetry to Azure Monitor) when appInsightsEnabled is on.
param location string
param namePrefix string
param tags object

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${namePrefix}-insights'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // The app sends with Entra ID (its identity); the scoring pods, which have no identity of
    // their own, send with the connection string. Local auth stays on for them: the connection
    // string lets one write telemetry, never read it.
    DisableLocalAuth: false
  }
}

output workspaceId string = workspace.id
output appInsightsId string = insights.id
output connectionString string = insights.properties.ConnectionString
