/**
 * The Kubeconfig RPC streams a gzip-compressed tar holding one regular file `kubeconfig`.
 * This extracts it (ustar/GNU headers; only what that archive uses).
 */
import * as zlib from "node:zlib";

function readOctal(buf: Buffer, start: number, len: number): number {
  const s = buf
    .subarray(start, start + len)
    .toString("ascii")
    .replace(/\0.*$/s, "")
    .trim();
  return s === "" ? 0 : Number.parseInt(s, 8);
}

/** Files (regular entries) in an uncompressed tar, by name. */
export function untar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let off = 0;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
    const prefix = header.subarray(345, 500).toString("utf8").replace(/\0.*$/s, "");
    const size = readOctal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    const body = tar.subarray(off + 512, off + 512 + size);
    if (body.length < size) throw new Error("truncated tar archive");
    if (type === "0" || type === "\0") files.set(prefix ? `${prefix}/${name}` : name, Buffer.from(body));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** The `kubeconfig` file out of the RPC payload (gzip'd tar). */
export function extractKubeconfig(payload: Buffer): string {
  const files = untar(zlib.gunzipSync(payload));
  const kc = files.get("kubeconfig") ?? files.get("./kubeconfig");
  if (kc === undefined) {
    throw new Error(`kubeconfig archive holds no file "kubeconfig" (found: ${[...files.keys()].join(", ")})`);
  }
  return kc.toString("utf8");
}
