/** Azurite's well-known development account: public constants of the emulator, not secrets. */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** A connection string to a local Azurite's development account, for the services given. */
export function azuriteConnectionString(ports: { blob?: number; queue?: number }): string {
  const endpoint = (port: number) => `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  return [
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};`,
    ports.blob !== undefined ? `BlobEndpoint=${endpoint(ports.blob)};` : "",
    ports.queue !== undefined ? `QueueEndpoint=${endpoint(ports.queue)};` : "",
  ].join("");
}
