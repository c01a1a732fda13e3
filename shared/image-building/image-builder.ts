import type { ManifestDocument, ModelDocument } from "../store/documents.js";
import type { BuildLog } from "./build-log.js";

export interface ImageBuildRequest {
  imageId: string;
  imageName: string;
  version: number;
  /** The account's path, and its name, which name the image's repository. */
  accountPath: string;
  accountName: string;
  /**
   * When the account was created: a blob under its prefix last written before then belongs to a
   * deleted account of the same name, and is not read.
   */
  accountCreatedAt: string;
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
