/**
 * etcd snapshot files on disk: written 0600 through a temp file and a rename, checked against the
 * SHA-256 etcd appends to a snapshot (the last 32 bytes are the SHA-256 of the bbolt database
 * before them; `etcdutl snapshot restore` refuses a file whose trailer does not match), optionally
 * age-encrypted on the way (no plaintext touches the disk then), and pruned to the newest N per
 * stack. Relative imports and node_modules only: the dynamic providers load it.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { snapshotRevision } from "./bbolt-revision";

/** Length of the SHA-256 trailer etcd appends to a snapshot stream. */
export const SNAPSHOT_HASH_BYTES = 32;

/**
 * bbolt databases are whole pages, so a snapshot with its trailer is `512k + 32` bytes: etcdutl
 * (v3.6 snapshot/v3_snapshot.go `hasChecksum`: `n % 512 == sha256.Size`) treats any other length
 * as "snapshot missing hash" and refuses it without --skip-hash-check.
 */
export const SNAPSHOT_ALIGN_BYTES = 512;

/** Suffix of a plain snapshot file and of an age-encrypted one. */
export const PLAIN_SUFFIX = ".db";
export const AGE_SUFFIX = ".db.age";

/** What a finished snapshot file is. */
export interface SnapshotFileInfo {
  /** Absolute path of the file. */
  readonly file: string;
  /** Bytes of the etcd snapshot (database + trailer), before any encryption. */
  readonly snapshotBytes: number;
  /** Bytes of the file on disk. */
  readonly fileBytes: number;
  /** Hex SHA-256 of the file as written (what a copy can be checked against). */
  readonly fileSha256: string;
  /** Hex SHA-256 of the etcd database: the trailer etcd wrote, verified. */
  readonly dbSha256: string;
  readonly encrypted: boolean;
  /** etcd revision of the snapshot, when its database could be read (≤ INSPECT_LIMIT bytes). */
  readonly revision?: number;
}

/**
 * Upper bound of a snapshot: twice the largest backend etcd suggests (`--quota-backend-bytes`,
 * "suggested maximum 8 GiB", etcd docs dev-guide/limit). A node streaming past it is broken;
 * without a bound it would fill the disk the backups live on.
 */
export const MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024 * 1024;

/** Snapshots up to this size are kept in memory while they stream, to read their revision. */
export const INSPECT_LIMIT = 128 * 1024 * 1024;

export class SnapshotIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnapshotIntegrityError";
  }
}

/**
 * Streaming check of the trailer: hashes everything but the last 32 bytes seen so far, holding
 * those back until more arrive. `finish()` compares the trailer with the hash.
 */
export class TrailerCheck {
  private readonly hash = crypto.createHash("sha256");
  private tail = Buffer.alloc(0);
  bytes = 0;

  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    const all = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const cut = Math.max(0, all.length - SNAPSHOT_HASH_BYTES);
    if (cut > 0) this.hash.update(all.subarray(0, cut));
    this.tail = Buffer.from(all.subarray(cut));
  }

  /** The database's hex SHA-256; throws SnapshotIntegrityError when the trailer does not match. */
  finish(): string {
    if (this.bytes <= SNAPSHOT_HASH_BYTES) {
      throw new SnapshotIntegrityError(
        `snapshot is ${this.bytes} bytes: too short to hold a database and its SHA-256 trailer`,
      );
    }
    if (this.bytes % SNAPSHOT_ALIGN_BYTES !== SNAPSHOT_HASH_BYTES) {
      throw new SnapshotIntegrityError(
        `snapshot is ${this.bytes} bytes: not a whole database plus its ${SNAPSHOT_HASH_BYTES}-byte SHA-256 trailer (size % ${SNAPSHOT_ALIGN_BYTES} must be ${SNAPSHOT_HASH_BYTES}, as etcdutl snapshot restore requires; truncated or corrupted transfer)`,
      );
    }
    const digest = this.hash.digest();
    if (!digest.equals(this.tail)) {
      throw new SnapshotIntegrityError(
        `snapshot integrity check failed: the database hashes to ${digest.toString("hex").slice(0, 16)}…, the trailer says ${this.tail.toString("hex").slice(0, 16)}… (truncated or corrupted transfer)`,
      );
    }
    return digest.toString("hex");
  }
}

/** The database hash of a whole snapshot in memory (throws when the trailer does not match). */
export function verifySnapshotBytes(bytes: Buffer): string {
  const c = new TrailerCheck();
  c.update(bytes);
  return c.finish();
}

type Age = typeof import("age-encryption", { with: { "resolution-mode": "import" }});
async function loadAge(): Promise<Age> {
  return await import("age-encryption");
}

/** An age X25519 (or other `age1…`) recipient, as SOPS writes it. */
export function isAgeRecipient(s: string): boolean {
  return /^age1[0-9a-z]{10,}$/.test(s);
}

/**
 * Receives snapshot chunks (a `SnapshotSink` for `TalosClient.etcdSnapshot`) into `<final>` via a
 * 0600 temp file beside it; `finish()` verifies the trailer, fsyncs and renames; `abort()` removes
 * the temp file. With `recipient` the bytes are age-encrypted as they arrive.
 */
export class SnapshotFileWriter {
  private fd: number | undefined;
  private readonly temp: string;
  private check = new TrailerCheck();
  private fileHash = crypto.createHash("sha256");
  private fileBytes = 0;
  private encWriter: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** Plaintext kept for the revision (dropped past INSPECT_LIMIT). */
  private inspect: Buffer[] | undefined = [];
  private inspectBytes = 0;
  private pump: Promise<void> | undefined;

  private constructor(
    readonly file: string,
    private readonly recipient: string | undefined,
    private readonly age: Age | undefined,
    private readonly maxBytes: number,
  ) {
    this.temp = path.join(
      path.dirname(file),
      `.${path.basename(file)}.partial-${process.pid}-${crypto.randomBytes(4).toString("hex")}`,
    );
  }

  static async open(
    file: string,
    o: { recipient?: string; maxBytes?: number } = {},
  ): Promise<SnapshotFileWriter> {
    const recipient = o.recipient?.trim() || undefined;
    if (recipient !== undefined && !isAgeRecipient(recipient)) {
      throw new Error(`age recipient "${recipient}" is not an age1… public key`);
    }
    const w = new SnapshotFileWriter(
      path.resolve(file),
      recipient,
      recipient ? await loadAge() : undefined,
      o.maxBytes ?? MAX_SNAPSHOT_BYTES,
    );
    fs.mkdirSync(path.dirname(w.file), { recursive: true, mode: 0o700 });
    await w.start();
    return w;
  }

  private async start(): Promise<void> {
    // 0600 from creation (umask can only remove bits); O_EXCL: never follow a planted file.
    this.fd = fs.openSync(
      this.temp,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL,
      0o600,
    );
    this.check = new TrailerCheck();
    this.fileHash = crypto.createHash("sha256");
    this.fileBytes = 0;
    this.inspect = [];
    this.inspectBytes = 0;
    if (this.age && this.recipient) {
      const enc = new this.age.Encrypter();
      enc.addRecipient(this.recipient);
      const plain = new TransformStream<Uint8Array, Uint8Array>();
      this.encWriter = plain.writable.getWriter();
      const out = await enc.encrypt(plain.readable);
      this.pump = (async () => {
        const reader = out.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          this.writeFile(Buffer.from(value));
        }
      })();
      // A failure surfaces through finish(); never as an unhandled rejection meanwhile.
      this.pump.catch(() => undefined);
    }
  }

  private writeFile(b: Buffer): void {
    if (this.fd === undefined) throw new Error("snapshot file is closed");
    let off = 0;
    while (off < b.length) off += fs.writeSync(this.fd, b, off, b.length - off);
    this.fileHash.update(b);
    this.fileBytes += b.length;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.check.bytes + chunk.length > this.maxBytes) {
      throw new SnapshotIntegrityError(
        `snapshot stream exceeds ${this.maxBytes} bytes, more than any etcd database: refused`,
      );
    }
    this.check.update(chunk);
    if (this.inspect) {
      this.inspectBytes += chunk.length;
      if (this.inspectBytes <= INSPECT_LIMIT) this.inspect.push(chunk);
      else this.inspect = undefined;
    }
    if (this.encWriter) {
      await this.encWriter.ready;
      await this.encWriter.write(new Uint8Array(chunk));
    } else {
      this.writeFile(chunk);
    }
  }

  /** Starts over (a retried transfer): the temp file is emptied. */
  async reset(): Promise<void> {
    await this.closeStreams(true);
    this.closeFd();
    fs.rmSync(this.temp, { force: true });
    await this.start();
  }

  private async closeStreams(discard: boolean): Promise<void> {
    const w = this.encWriter;
    this.encWriter = undefined;
    if (!w) return;
    if (discard) {
      await w.abort().catch(() => undefined);
      await this.pump?.catch(() => undefined);
    } else {
      await w.close();
      await this.pump;
    }
    this.pump = undefined;
  }

  private closeFd(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  async finish(): Promise<SnapshotFileInfo> {
    try {
      const dbSha256 = this.check.finish();
      const plain = this.inspect ? Buffer.concat(this.inspect) : undefined;
      this.inspect = undefined;
      const revision = plain
        ? snapshotRevision(plain.subarray(0, plain.length - SNAPSHOT_HASH_BYTES))
        : undefined;
      await this.closeStreams(false);
      if (this.fd !== undefined) fs.fsyncSync(this.fd);
      this.closeFd();
      fs.renameSync(this.temp, this.file);
      return {
        file: this.file,
        snapshotBytes: this.check.bytes,
        fileBytes: this.fileBytes,
        fileSha256: this.fileHash.digest("hex"),
        dbSha256,
        encrypted: this.encWriter !== undefined || this.recipient !== undefined,
        ...(revision !== undefined ? { revision } : {}),
      };
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async abort(): Promise<void> {
    await this.closeStreams(true);
    this.closeFd();
    fs.rmSync(this.temp, { force: true });
  }
}

/** `20261201T142233.123Z` (sortable, no colons). */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "");
}

/** `<stack>-etcd-<time>-<node>.db[.age]`: sorts by time within a stack. */
export function snapshotFileName(stack: string, node: string, at: Date, encrypted: boolean): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${safe(stack)}-etcd-${timestamp(at)}-${safe(node)}${encrypted ? AGE_SUFFIX : PLAIN_SUFFIX}`;
}

/** The snapshot files of `stack` in `dir`, oldest first. */
export function listSnapshots(dir: string, stack: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const prefix = `${stack.replace(/[^A-Za-z0-9._-]/g, "_")}-etcd-`;
  return names
    .filter((n) => n.startsWith(prefix) && (n.endsWith(PLAIN_SUFFIX) || n.endsWith(AGE_SUFFIX)))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Deletes all but the newest `keep` snapshots of `stack` in `dir`; returns the deleted paths. */
export function pruneSnapshots(dir: string, stack: string, keep: number): string[] {
  if (!Number.isInteger(keep) || keep < 1)
    throw new Error(`retention must be a whole number >= 1, got ${keep}`);
  const all = listSnapshots(dir, stack);
  const drop = all.slice(0, Math.max(0, all.length - keep));
  for (const f of drop) fs.rmSync(f, { force: true });
  return drop;
}

/** Reads a snapshot file back as plaintext chunks (decrypting `.age` files with `identities`). */
export async function* readSnapshot(
  file: string,
  identities: readonly string[] = [],
): AsyncGenerator<Buffer> {
  const encrypted = file.endsWith(".age") || isAgeFile(file);
  if (!encrypted) {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) {
      yield chunk as Buffer;
    }
    return;
  }
  if (identities.length === 0) {
    throw new Error(`${file} is age-encrypted: give the identity (--identity FILE or SOPS_AGE_KEY_FILE)`);
  }
  const age = await loadAge();
  const dec = new age.Decrypter();
  for (const id of identities) dec.addIdentity(id);
  const source = fs.createReadStream(file, { highWaterMark: 1024 * 1024 });
  const web = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for await (const c of source) controller.enqueue(new Uint8Array(c as Buffer));
        controller.close();
      } catch (e) {
        controller.error(e);
      }
    },
  });
  const plain = await dec.decrypt(web);
  const reader = plain.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield Buffer.from(value);
  }
}

function isAgeFile(file: string): boolean {
  const fd = fs.openSync(file, "r");
  try {
    const head = Buffer.alloc(21);
    fs.readSync(fd, head, 0, head.length, 0);
    return head.toString("latin1") === "age-encryption.org/v1";
  } finally {
    fs.closeSync(fd);
  }
}

/** Verifies a snapshot file end to end (decrypting if needed): its database hash and size. */
export async function verifySnapshotFile(
  file: string,
  identities: readonly string[] = [],
): Promise<{ dbSha256: string; snapshotBytes: number }> {
  const c = new TrailerCheck();
  for await (const chunk of readSnapshot(file, identities)) c.update(chunk);
  return { dbSha256: c.finish(), snapshotBytes: c.bytes };
}
