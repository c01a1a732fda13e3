import type { ManifestDocument, ModelDocument } from "../store/documents.js";
import type { BuildLog } from "./build-log.js";

export interface ImageBuildRequest {
  imageId: string;
  imageName: string;
  version: number;
  /** The account's partition key, and its name, which name the image's repository. */
  accountPath: string;
  accountName: string;
  manifest: ManifestDocument;
  models: ModelDocument[];
  log: BuildLog;
}

export interface ImageBuildResult {
  /** Where the image is: a registry reference, or `oci:<layout>:<ref>` when no registry is configured. */
  imageLocation: string;
  /** The image manifest's digest. */
  digest: string;
}

/** Builds a manifest's image: the local daemonless OCI builder, or ACR Tasks in Azure. */
export interface ImageBuilder {
  build(request: ImageBuildRequest): Promise<ImageBuildResult>;
}
