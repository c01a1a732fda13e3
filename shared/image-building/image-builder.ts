import type { ManifestDocument, ModelDocument } from "../store/documents.js";
import type { BuildLog } from "./build-log.js";

/**
 * Whose images: one life (incarnation) of an account. Its images are named by it (registry
 * repositories, build contexts), so that deleting the account can remove all of them, including
 * those a build still in flight made after its documents went, and none of a new account that
 * took the name.
 */
export interface ImageOwner {
  /** The account's path and name (the name starts its repositories' names). */
  accountPath: string;
  accountName: string;
  /** The account's data partition (its path and incarnation): what its images are named by. */
  partition: string;
}

export interface ImageBuildRequest extends ImageOwner {
  imageId: string;
  imageName: string;
  version: number;
  /**
   * When the account was created: a blob under its prefix last written before then belongs to a
   * deleted account of the same name, and is not read.
   */
  accountCreatedAt: string;
  manifest: ManifestDocument;
  models: ModelDocument[];
  log: BuildLog;
  /** What a build that went on elsewhere (BuildPending) left to take up again. */
  resumeFrom?: Record<string, unknown>;
}

export interface ImageBuildResult {
  /** Where the image is: a registry reference, or `oci:<layout>:<ref>` when no registry is configured. */
  imageLocation: string;
  /** The image manifest's digest. */
  digest: string;
}

/** An image a builder built, as its removal names it. */
export interface BuiltImage extends ImageOwner {
  imageId: string;
  imageName: string;
  version: number;
  /** The image manifest's digest and where it was put, when its build got that far. */
  digest?: string;
  imageLocation?: string;
}

/** Builds a manifest's image: the local daemonless OCI builder, or ACR Tasks in Azure. */
export interface ImageBuilder {
  /** The image, or BuildPending when the build goes on elsewhere and is to be taken up again. */
  build(request: ImageBuildRequest): Promise<ImageBuildResult>;
  /** Removes what builds of a deleted image left (registry tag, layout entry, context); idempotent. Returns notes for the log. */
  remove(image: BuiltImage): Promise<string[]>;
  /** Removes every image of a deleted account's incarnation, whatever its documents still say; idempotent. */
  removeAll(owner: ImageOwner): Promise<string[]>;
}
