import type { TableView } from "../output.js";

export const MODEL_VIEW: TableView = [
  ["Name", "name"],
  ["Version", "version"],
  ["Id", "id"],
  ["MimeType", "mimeType"],
  ["Created", "createdAt"],
];
export const MANIFEST_VIEW: TableView = [
  ["Name", "name"],
  ["Version", "version"],
  ["Id", "id"],
  ["Driver", "driverProgram"],
  ["Models", "length(modelIds || `[]`)"],
];
export const IMAGE_VIEW: TableView = [
  ["Name", "name"],
  ["Version", "version"],
  ["Id", "id"],
  ["State", "creationState"],
  ["Location", "imageLocation"],
];
export const SERVICE_VIEW: TableView = [
  ["Name", "name"],
  ["Id", "id"],
  ["State", "state"],
  ["Replicas", "numReplicas"],
  ["ScoringUri", "scoringUri"],
];
export const OPERATION_VIEW: TableView = [
  ["Id", "id"],
  ["Type", "operationType"],
  ["State", "state"],
  ["Error", "error.message"],
];
export const DEPLOYMENT_VIEW: TableView = [
  ["Id", "id"],
  ["Service", "serviceName"],
  ["Image", "imageId"],
  ["Status", "status"],
  ["Created", "createdAt"],
  ["Expired", "expiredAt"],
];
export const ACCOUNT_VIEW: TableView = [
  ["Name", "name"],
  ["Location", "location"],
  ["Id", "id"],
];
