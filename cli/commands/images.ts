import { Command } from "commander";
import { contextOf, type Context } from "../context.js";
import { addDeleteCommand } from "./delete.js";
import { addManifestFileOptions, createManifestFromFiles, modelIdsFrom, type ManifestFileOptions } from "./manifests.js";
import { addWaitOptions, resourceIdOf, settle, type WaitFlags } from "./operations.js";
import type { OperationStatus } from "../wait.js";
import { IMAGE_VIEW } from "./views.js";
import { collect, positiveInt } from "./options.js";

export interface ImageFlags extends ManifestFileOptions, WaitFlags {
  manifestId?: string;
  modelFile: string[];
  modelId: string[];
  compute: string;
  description?: string;
}

interface Image {
  id: string;
  name: string;
  version: number;
  creationState: string;
  imageLocation?: string;
  imageBuildLogUri?: string;
}

/** Builds an image from a manifest id, or from files (registering models and creating the manifest first). */
export async function createImage(ctx: Context, name: string, flags: ImageFlags): Promise<{ image?: Image; operationId: string }> {
  let manifestId = flags.manifestId;
  if (!manifestId) {
    const modelIds = await modelIdsFrom(ctx, flags.modelId, flags.modelFile);
    const manifest = await createManifestFromFiles(ctx, name, flags, modelIds, flags.description);
    ctx.note(`Created manifest ${manifest.name} version ${manifest.version} (${manifest.id}).`);
    manifestId = manifest.id;
  }
  const body = {
    name,
    manifestId,
    computeResourceId: flags.compute,
    imageType: "Docker",
    ...(flags.description ? { description: flags.description } : {}),
  };
  const { operationId } = await ctx.api.startOperation("POST", "images", body);
  if (!flags.wait) return { operationId };
  const imageId = resourceIdOf(await ctx.api.get<OperationStatus>(`operations/${operationId}`));
  await settle(ctx, operationId, flags, `image ${name}`, imageId);
  return { image: await ctx.api.get<Image>(`images/${imageId}`), operationId };
}

export function imageCommand(): Command {
  const image = new Command("image").description("Build, list, show and delete Docker images of manifests");

  addWaitOptions(
    addManifestFileOptions(
      image
        .command("create")
        .description("Build an image from a manifest (--manifest-id), or from files: -m model -f score.py -r python")
        .requiredOption("-n, --name <name>", "the image's name")
        .option("--manifest-id <id>", "the manifest to build"),
      false,
    )
      .option("-m, --model-file <path>", "a model file or folder to register and include (repeat for more)", collect, [])
      .option("-i, --model-id <id>", "a registered model to include (repeat for more)", collect, [])
      .option("--compute <id>", "the compute target the image is for", "local")
      .option("--description <text>", "a description"),
  ).action(async (opts: ImageFlags & { name: string }, command: Command) => {
    const ctx = contextOf(command);
    if (!opts.manifestId && !opts.file)
      command.error("error: give --manifest-id <id>, or the files: -m <model> -f <score.py> -r python", { exitCode: 2 });
    const { image: built, operationId } = await createImage(ctx, opts.name, opts);
    ctx.print(built ?? { operationId }, built ? IMAGE_VIEW : undefined);
  });

  image
    .command("list")
    .description("List images, newest first")
    .option("--manifest-id <id>", "only images of this manifest")
    .option("--manifest-name <name>", "only images of manifests of this name")
    .option("--top <n>", "at most this many", positiveInt)
    .action(async (opts: { manifestId?: string; manifestName?: string; top?: number }, command: Command) => {
      const ctx = contextOf(command);
      ctx.print(await ctx.api.list("images", { manifestId: opts.manifestId, manifestName: opts.manifestName }, opts.top), IMAGE_VIEW);
    });

  image
    .command("show")
    .description("Show an image, its manifest embedded")
    .requiredOption("-i, --id <id>", "the image's id")
    .action(async (opts: { id: string }, command: Command) => {
      const ctx = contextOf(command);
      ctx.print(await ctx.api.get(`images/${encodeURIComponent(opts.id)}`), IMAGE_VIEW);
    });

  image
    .command("usage")
    .description("How to get and run an image")
    .requiredOption("-i, --id <id>", "the image's id")
    .action(async (opts: { id: string }, command: Command) => {
      const ctx = contextOf(command);
      const img = await ctx.api.get<Image>(`images/${encodeURIComponent(opts.id)}`);
      const location = img.imageLocation;
      const lines = [`Image ${img.name} version ${img.version}: ${img.creationState}`];
      if (location?.startsWith("oci:")) {
        const ref = location.slice(4);
        lines.push(
          `It is in a local OCI layout: ${ref}`,
          `Copy it to a registry:  skopeo copy ${location} docker://<registry>/${img.name}:${img.version}`,
          `Load it into Docker:    skopeo copy ${location} docker-daemon:${img.name}:${img.version}`,
        );
      } else if (location) {
        lines.push(
          `Pull it:  docker pull ${location}`,
          `Run it:   docker run -p 5001:5001 ${location}`,
          `Score:    curl -X POST http://127.0.0.1:5001/score -H 'Content-Type: application/json' -d '<input json>'`,
        );
      }
      if (img.imageBuildLogUri) lines.push(`Build log: ${img.imageBuildLogUri}`);
      ctx.printText(lines.join("\n"), { id: img.id, imageLocation: location ?? null, imageBuildLogUri: img.imageBuildLogUri ?? null });
    });
  addDeleteCommand(image, "image", "images", "it builds, or a service runs it");
  return image;
}
