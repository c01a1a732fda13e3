import type { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { loadTelemetrySettings, type TelemetrySettings } from "./config.js";

let provider: NodeTracerProvider | undefined;

/**
 * OpenTelemetry traces to Azure Monitor, when the app has an Application Insights connection
 * string (the Bicep sets one when appInsightsEnabled), sent with the app's identity when
 * APPLICATIONINSIGHTS_AUTHENTICATION_STRING says `Authorization=AAD`. Without a connection string
 * nothing is loaded.
 *
 * The exporter and the OpenTelemetry SDK are wired here by hand rather than through the Azure
 * Monitor distro, which probes the Azure VM metadata endpoint at start on every machine; and the
 * exporter's own usage reports to Microsoft (statsbeat) are off unless asked for.
 */
export async function startTelemetry(settings: TelemetrySettings = loadTelemetrySettings()): Promise<boolean> {
  const { connectionString } = settings;
  if (!connectionString || provider) return Boolean(provider);
  // Both switches: the first turns off the optional reports, the second (its older name) the
  // essential ones, which also probe the Azure VM metadata endpoint.
  process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED ??= "true";
  process.env.APPLICATION_INSIGHTS_NO_STATSBEAT ??= "true";
  process.env.OTEL_SERVICE_NAME ??= "model-management";
  const [{ AzureMonitorTraceExporter }, { NodeTracerProvider, BatchSpanProcessor }, { DefaultAzureCredential }] = await Promise.all([
    import("@azure/monitor-opentelemetry-exporter"),
    import("@opentelemetry/sdk-trace-node"),
    import("@azure/identity"),
  ]);
  const exporter = new AzureMonitorTraceExporter({
    connectionString,
    ...(settings.entraId ? { credential: new DefaultAzureCredential() } : {}),
  });
  provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  provider.register();
  return true;
}

/** Sends what is buffered and stops (a host shutting down; test/fixtures/telemetry/emit-span.mjs). */
export async function stopTelemetry(): Promise<void> {
  await provider?.shutdown();
  provider = undefined;
}
