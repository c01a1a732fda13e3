import { randomUUID } from "node:crypto";
import type { Container } from "@azure/cosmos";
import type { ModelDocument } from "../../shared/store/documents.js";
import { counterIdOf } from "../../shared/store/versioning.js";

/**
 * Writes `count` models into an account straight through @azure/cosmos, shaped as the API writes
 * them (documents, and a version counter per name), named `<prefix>-<i % names>`, one second apart
 * and newest last. Seeding 100 000 models through the API would take minutes and measure
 * registration, which has benchmarks of its own.
 */
export async function seedModels(
  container: Container,
  pk: string,
  count: number,
  options: { prefix: string; names: number; log?: (m: string) => void },
): Promise<string[]> {
  const ids: string[] = [];
  const start = Date.now() - count * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) {
        const i = next++;
        const name = `${options.prefix}-${i % options.names}`;
        const doc: ModelDocument = {
          id: randomUUID(),
          pk,
          kind: "model",
          name,
          version: Math.floor(i / options.names) + 1,
          mimeType: "application/octet-stream",
          url: `https://models.example.com/${name}.pkl`,
          createdAt: new Date(start + i * 1000).toISOString(),
        };
        await container.items.create(doc);
        ids.push(doc.id);
        if (i > 0 && i % 20_000 === 0) options.log?.(`${i} of ${count} models written`);
      }
    }),
  );
  const versions = Math.ceil(count / options.names);
  for (let n = 0; n < Math.min(options.names, count); n++) {
    await container.items.upsert({ id: counterIdOf("model", `${options.prefix}-${n}`), pk, kind: "counter", lastVersion: versions });
  }
  return ids;
}
