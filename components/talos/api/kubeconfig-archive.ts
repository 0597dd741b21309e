/**
 * The Kubeconfig RPC streams a gzip-compressed tar holding one regular file `kubeconfig` (Talos
 * machined writes it with Go's archive/tar: one ustar header, the body, the end-of-archive blocks;
 * talosctl's `extractKubeconfig` says "returned .tar.gz should contain only single file").
 * This extracts it strictly: anything else (a truncated stream, a bad header checksum, a link,
 * a path with `..`, further entries, a size beyond any real kubeconfig) is refused, so a damaged
 * or hostile archive never becomes the admin credential the program then trusts.
 */
import * as zlib from "node:zlib";

/** Upper bound of the streamed archive and of the kubeconfig in it (a real one is ~6 KiB). */
export const MAX_KUBECONFIG_BYTES = 1024 * 1024;

const BLOCK = 512;

function readOctal(buf: Buffer, start: number, len: number): number {
  const s = buf
    .subarray(start, start + len)
    .toString("ascii")
    .replace(/\0.*$/s, "")
    .trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`tar header has a non-octal number "${s}"`);
  return Number.parseInt(s, 8);
}

/** POSIX header checksum: the bytes of the header with the checksum field read as spaces. */
function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return readOctal(header, 148, 8) === sum;
}

export interface TarEntry {
  readonly name: string;
  /** ustar type flag ("0" regular file, "2" symlink, "5" directory, ...). */
  readonly type: string;
  readonly body: Buffer;
}

/** The entries of an uncompressed tar; throws on a damaged or truncated archive. */
export function untar(tar: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let off = 0;
  for (;;) {
    if (off + BLOCK > tar.length) throw new Error("truncated tar archive (no end-of-archive marker)");
    const header = tar.subarray(off, off + BLOCK);
    if (header.every((b) => b === 0)) return entries;
    if (!checksumOk(header)) throw new Error(`tar header checksum mismatch at byte ${off}`);
    const name = header.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
    const prefix = header.subarray(345, 500).toString("utf8").replace(/\0.*$/s, "");
    const size = readOctal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    const body = tar.subarray(off + BLOCK, off + BLOCK + size);
    if (body.length < size) throw new Error("truncated tar archive");
    entries.push({ name: prefix ? `${prefix}/${name}` : name, type, body: Buffer.from(body) });
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
}

/** The `kubeconfig` file out of the RPC payload (gzip'd tar). */
export function extractKubeconfig(payload: Buffer): string {
  if (payload.length > MAX_KUBECONFIG_BYTES) {
    throw new Error(`archive is ${payload.length} bytes, more than ${MAX_KUBECONFIG_BYTES}`);
  }
  let tar: Buffer;
  try {
    // The bound stops a gzip bomb from filling memory (a tar adds 2 KiB at most to the file).
    tar = zlib.gunzipSync(payload, { maxOutputLength: MAX_KUBECONFIG_BYTES + 4 * BLOCK });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      code === "ERR_BUFFER_TOO_LARGE"
        ? `archive unpacks to more than ${MAX_KUBECONFIG_BYTES} bytes`
        : `not a complete gzip stream (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const entries = untar(tar);
  const names = entries.map((e) => `${e.name} (type ${e.type})`).join(", ");
  const kc = entries.find((e) => e.name === "kubeconfig" || e.name === "./kubeconfig");
  if (kc === undefined) {
    throw new Error(`kubeconfig archive holds no file "kubeconfig" (found: ${names || "nothing"})`);
  }
  if (entries.length !== 1) {
    throw new Error(`kubeconfig archive must hold only the file "kubeconfig", found: ${names}`);
  }
  if (kc.type !== "0") throw new Error(`"kubeconfig" in the archive is not a regular file (type ${kc.type})`);
  return kc.body.toString("utf8");
}
