import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Encrypts small secrets (service keys) at rest with AES-256-GCM: `v1.<iv>.<ciphertext+tag>`,
 * base64url. The 32-byte key comes from configuration (Key Vault in Azure, a file the local
 * stack generates), never from code.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(keyBase64: string) {
    this.#key = Buffer.from(keyBase64, "base64");
    if (this.#key.length !== 32) throw new Error("SERVICE_KEYS_SECRET must be 32 bytes, base64-encoded.");
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const sealed = Buffer.concat([cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `v1.${iv.toString("base64url")}.${sealed.toString("base64url")}`;
  }

  open(box: string): string {
    const [version, iv, sealed] = box.split(".");
    if (version !== "v1" || !iv || !sealed) throw new Error("Not a sealed secret.");
    const bytes = Buffer.from(sealed, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString("utf8");
  }
}

/** A service key: 32 random bytes, URL-safe. */
export function newServiceKey(): string {
  return randomBytes(32).toString("base64url");
}
