import type { ContainerRegistryManagementClient } from "@azure/arm-containerregistry";

/**
 * The base image of images built without conda, in the project's own registry. Docker Hub limits
 * anonymous pulls (ACR Tasks runs pull anonymously), so the deployment copies the image into the
 * registry once; the Bicep points IMAGE_BASE at the copy. Locally the builder reads `python:3.11-slim`
 * from wherever the local registry mirror has it.
 */
export const BASE_IMAGE = { registry: "docker.io", source: "library/python:3.11-slim", target: "base/python:3.11-slim" };

const REGISTRY_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i;

/**
 * Imports the base image into the registry (ACR copies it server-side), unless this environment
 * did already. Returns the image's reference in the registry.
 */
export async function importBaseImage(
  registries: Pick<ContainerRegistryManagementClient, "registries">,
  registryId: string,
  loginServer: string,
): Promise<string> {
  const m = REGISTRY_ID.exec(registryId);
  if (!m) throw new Error(`"${registryId}" is not a container registry's resource id.`);
  await registries.registries.beginImportImageAndWait(m[1]!, m[2]!, {
    source: { registryUri: BASE_IMAGE.registry, sourceImage: BASE_IMAGE.source },
    targetTags: [BASE_IMAGE.target],
    // The same tag again: a newer patch release of the same image is welcome.
    mode: "Force",
  });
  return `${loginServer}/${BASE_IMAGE.target}`;
}
