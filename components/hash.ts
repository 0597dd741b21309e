/** The one SHA-256 helper (no imports beyond node:crypto, so dynamic-provider logic can load it too). */
import { createHash } from "node:crypto";

/** Hex SHA-256 of a UTF-8 text. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
