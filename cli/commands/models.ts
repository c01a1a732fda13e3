import { basename } from "node:path";
import { Command, Option } from "commander";
import { contextOf, type Context } from "../context.js";
import { addDeleteCommand } from "./delete.js";
import { mimeTypeOf, upload } from "../upload.js";
import { MODEL_VIEW } from "./views.js";
import { collect, positiveInt } from "./options.js";

interface ModelFileOptions {
  name: string;
  description?: string;
  tag?: string[];
  mimeType?: string;
}

/** Uploads a model file or folder and registers it as the next version of its name. */
export async function registerModelFile(
  ctx: Context,
  path: string,
  options: ModelFileOptions,
): Promise<{ id: string; name: string; version: number }> {
  const uploaded = await upload(ctx.blobs(), ctx.accountPath, path, ctx.verbose);
  return registerModelUrl(ctx, uploaded.url, { ...options, mimeType: options.mimeType ?? uploaded.mimeType }, uploaded.packed);
}

async function registerModelUrl(
  ctx: Context,
  url: string,
  options: ModelFileOptions,
  unpack: boolean,
): Promise<{ id: string; name: string; version: number }> {
  const body = {
    name: options.name,
    ...(options.description ? { description: options.description } : {}),
    ...(options.tag?.length ? { tags: options.tag } : {}),
    mimeType: options.mimeType ?? mimeTypeOf(new URL(url).pathname),
    ...(unpack ? { unpack: true } : {}),
    url,
  };
  return (await ctx.api.call<{ id: string; name: string; version: number }>("POST", "models", { body })).body;
}

export function modelCommand(): Command {
  const model = new Command("model").description("Register, list, show and delete models (versioned per name)");

  model
    .command("register")
    .description("Upload a model file (or folder, packed as tar.gz) and register it; again under the same name makes the next version")
    .addOption(new Option("-m, --model <path>", "the model file or folder to upload").conflicts("url"))
    .addOption(new Option("--url <url>", "register content already at this URL instead of uploading"))
    .option("-n, --name <name>", "the model's name (default: the file name)")
    .option("-d, --description <text>", "a description")
    .option("-t, --tag <tag>", "a tag (repeat for more)", collect, [])
    .option("--mime-type <type>", "the content's MIME type (default: from the file name)")
    .option("--unpack", "unpack the content (an archive) when images are built")
    .action(
      async (
        opts: { model?: string; url?: string; name?: string; description?: string; tag: string[]; mimeType?: string; unpack?: boolean },
        command: Command,
      ) => {
        const ctx = contextOf(command);
        if (!opts.model && !opts.url) command.error("error: give the model with -m <path>, or its URL with --url <url>", { exitCode: 2 });
        const name = opts.name ?? basename(opts.model ?? new URL(opts.url!).pathname);
        const registered = opts.model
          ? await registerModelFile(ctx, opts.model, { name, description: opts.description, tag: opts.tag, mimeType: opts.mimeType })
          : await registerModelUrl(
              ctx,
              opts.url!,
              { name, description: opts.description, tag: opts.tag, mimeType: opts.mimeType },
              Boolean(opts.unpack),
            );
        ctx.print(registered, MODEL_VIEW);
      },
    );

  model
    .command("list")
    .description("List models, newest first")
    .option("-n, --name <name>", "only this name")
    .option("-t, --tag <tag>", "only models with this tag")
    .option("--top <n>", "at most this many", positiveInt)
    .action(async (opts: { name?: string; tag?: string; top?: number }, command: Command) => {
      const ctx = contextOf(command);
      ctx.print(await ctx.api.list("models", { name: opts.name, tag: opts.tag }, opts.top), MODEL_VIEW);
    });

  model
    .command("show")
    .description("Show a model")
    .requiredOption("-i, --id <id>", "the model's id")
    .action(async (opts: { id: string }, command: Command) => {
      const ctx = contextOf(command);
      ctx.print(await ctx.api.get(`models/${encodeURIComponent(opts.id)}`), MODEL_VIEW);
    });
  addDeleteCommand(model, "model", "models", "a manifest uses it");
  return model;
}
