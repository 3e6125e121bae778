import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

// Signing secrets: `whsec_` and 32 random bytes in base64, as the Standard Webhooks specification
// writes them. We must be able to sign with them, so they cannot be hashed; they are sealed with
// AES-256-GCM under a key from the environment (WEBHOOK_ENCRYPTION_KEY), so a copy of the database
// alone neither reveals them nor lets anyone sign as us. The user sees a secret once: when the
// endpoint is created and when its secret is rotated.

const PREFIX = "whsec_";

/** A new signing secret. */
export function newWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString("base64")}`;
}

const keyOf = (encryptionKey: string) => createHash("sha256").update(encryptionKey).digest();

/** The secret sealed for storage: iv.tag.ciphertext, base64url. */
export function sealSecret(secret: string, encryptionKey: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyOf(encryptionKey), iv);
  const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return [iv, cipher.getAuthTag(), sealed].map((b) => b.toString("base64url")).join(".");
}

/** The secret back from its sealed form; throws when it was sealed under another key or altered. */
export function openSecret(sealed: string, encryptionKey: string): string {
  const [iv, tag, data] = sealed.split(".").map((part) => Buffer.from(part, "base64url"));
  if (!iv || !tag || !data) throw new Error("a sealed webhook secret is malformed");
  const decipher = createDecipheriv("aes-256-gcm", keyOf(encryptionKey), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(data), decipher.final()]).toString("utf8");
}
