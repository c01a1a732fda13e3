/**
 * Where an account's blobs live in the service's storage account, shared by the app and the CLI:
 * `models/<subscription>/<resourceGroup>/<account>/<model>/<file>` (blob drops become versions),
 * `uploads/<subscription>/<resourceGroup>/<account>/…` (what `mm` uploads), and
 * `modeldata/<subscription>/<resourceGroup>/<account>/<service>/…` (what services collect).
 */
export const MODEL_DROP_CONTAINER = "models";
export const UPLOAD_CONTAINER = "uploads";
export const MODEL_DATA_CONTAINER = "modeldata";

/** `<subscription>/<resourceGroup>/<account>/`: the prefix of an account's blobs in those containers. */
export function accountBlobPrefix(accountPath: string): string {
  const m = /^subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/accounts\/([^/]+)$/.exec(accountPath);
  if (!m) throw new Error(`"${accountPath}" is not an account path (subscriptions/<id>/resourceGroups/<name>/accounts/<name>).`);
  return `${m[1]}/${m[2]}/${m[3]}/`;
}
