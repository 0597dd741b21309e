/**
 * Strict base64 and PEM helpers shared by the Talos secrets modules. Pure; no key parsing here.
 */

const STD_B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_B64 = /^[A-Za-z0-9_-]*={0,2}$/;

/** Standard base64 (with padding) of bytes or UTF-8 text. */
export function toBase64(data: Uint8Array | string): string {
  return Buffer.from(data).toString("base64");
}

/** URL-safe base64 *with* padding, as Go's `base64.URLEncoding` (Node's "base64url" drops the padding). */
export function toBase64UrlPadded(data: Uint8Array): string {
  return Buffer.from(data).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/**
 * Decodes base64 strictly: Node's decoder silently skips invalid characters, which would hide
 * corrupted bundles. Whitespace (line-wrapped values) is tolerated.
 */
export function decodeBase64Strict(text: string, alphabet: "std" | "url" | "either" = "std"): Buffer {
  const s = text.replace(/\s+/g, "");
  const ok =
    s.length % 4 === 0 &&
    (alphabet === "std"
      ? STD_B64.test(s)
      : alphabet === "url"
        ? URL_B64.test(s)
        : STD_B64.test(s) || URL_B64.test(s));
  if (!ok) throw new Error("not valid base64");
  const buf = Buffer.from(s, alphabet === "std" ? "base64" : "base64url");
  // Round-trip guards against non-canonical trailing bits.
  const again = buf.toString("base64");
  if (again.replace(/\+/g, "-").replace(/\//g, "_") !== s.replace(/\+/g, "-").replace(/\//g, "_")) {
    throw new Error("not canonical base64");
  }
  return buf;
}

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/;

/** The first PEM block of `text`; throws when there is none or its body is not base64. */
export function decodePem(text: string): PemBlock {
  const m = PEM_RE.exec(text);
  if (!m) throw new Error("no PEM block found");
  return { label: m[1], der: decodeBase64Strict(m[2]) };
}

/** PEM text as Go's `pem.EncodeToMemory` writes it: 64-column body, trailing newline. */
export function encodePem(label: string, der: Uint8Array): string {
  const body = Buffer.from(der)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${body}${body.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
}
