/**
 * The etcd revision of a snapshot, read from its bbolt database the way `etcdutl snapshot status`
 * computes it: the highest revision key of the `key` bucket (keys are the 8-byte big-endian main
 * revision, `_`, the 8-byte sub revision, and a `t` for a tombstone; bbolt keeps them sorted, so
 * the last one is the highest).
 *
 * bbolt layout (go.etcd.io/bbolt, little-endian): every page starts with a 16-byte header (id u64,
 * flags u16, count u16, overflow u32); pages 0 and 1 are metas (magic 0xED0CDAED, page size, the
 * root bucket's root page, txid: the higher valid txid wins); branch pages (flag 0x01) hold
 * 16-byte elements {pos u32, ksize u32, pgid u64}, leaf pages (0x02) {flags u32, pos u32, ksize u32,
 * vsize u32}, `pos` counted from the element itself. A bucket value is {root pgid u64, sequence
 * u64}, followed by an inline page when root is 0.
 */

const MAGIC = 0xed0cdaed;
const BRANCH = 0x01;
const LEAF = 0x02;
const HEADER = 16;
const ELEMENT = 16;

interface Page {
  readonly buf: Buffer;
  readonly off: number;
}

function meta(db: Buffer, off: number): { pageSize: number; root: bigint; txid: bigint } | undefined {
  if (db.length < off + HEADER + 64) return undefined;
  const m = off + HEADER;
  if (db.readUInt32LE(m) !== MAGIC) return undefined;
  return {
    pageSize: db.readUInt32LE(m + 8),
    root: db.readBigUInt64LE(m + 16),
    txid: db.readBigUInt64LE(m + 48),
  };
}

function elements(p: Page): { flags: number; count: number } {
  if (p.off + HEADER > p.buf.length) throw new Error("page beyond the end of the database");
  return { flags: p.buf.readUInt16LE(p.off + 8), count: p.buf.readUInt16LE(p.off + 10) };
}

function keyAt(p: Page, k: number, leaf: boolean): Buffer {
  const e = p.off + HEADER + k * ELEMENT;
  const pos = p.buf.readUInt32LE(e + (leaf ? 4 : 0));
  const ksize = p.buf.readUInt32LE(e + (leaf ? 8 : 4));
  return p.buf.subarray(e + pos, e + pos + ksize);
}

function valueAt(p: Page, k: number): Buffer {
  const e = p.off + HEADER + k * ELEMENT;
  const pos = p.buf.readUInt32LE(e + 4);
  const ksize = p.buf.readUInt32LE(e + 8);
  const vsize = p.buf.readUInt32LE(e + 12);
  return p.buf.subarray(e + pos + ksize, e + pos + ksize + vsize);
}

function childAt(p: Page, k: number, pageOf: (id: bigint) => Page): Page {
  return pageOf(p.buf.readBigUInt64LE(p.off + HEADER + k * ELEMENT + 8));
}

/** The value of `key` in the tree rooted at `root`, or undefined. */
function lookup(root: Page, key: Buffer, pageOf: (id: bigint) => Page): Buffer | undefined {
  let p = root;
  for (let depth = 0; depth < 64; depth++) {
    const { flags, count } = elements(p);
    if (flags & LEAF) {
      for (let k = 0; k < count; k++) if (keyAt(p, k, true).equals(key)) return valueAt(p, k);
      return undefined;
    }
    if (!(flags & BRANCH) || count === 0) return undefined;
    let pick = 0;
    for (let k = 0; k < count; k++) if (Buffer.compare(keyAt(p, k, false), key) <= 0) pick = k;
    p = childAt(p, pick, pageOf);
  }
  return undefined;
}

/** The last key of the tree rooted at `root`, or undefined when it is empty. */
function lastKey(root: Page, pageOf: (id: bigint) => Page): Buffer | undefined {
  let p = root;
  for (let depth = 0; depth < 64; depth++) {
    const { flags, count } = elements(p);
    if (count === 0) return undefined;
    if (flags & LEAF) return keyAt(p, count - 1, true);
    if (!(flags & BRANCH)) return undefined;
    p = childAt(p, count - 1, pageOf);
  }
  return undefined;
}

/** The highest etcd revision in a snapshot database (without its SHA-256 trailer), if readable. */
export function snapshotRevision(db: Buffer): number | undefined {
  try {
    const m0 = meta(db, 0);
    if (!m0) return undefined;
    const m1 = meta(db, m0.pageSize);
    const m = m1 && m1.txid > m0.txid ? m1 : m0;
    const pageOf = (id: bigint): Page => ({ buf: db, off: Number(id) * m.pageSize });
    const bucket = lookup(pageOf(m.root), Buffer.from("key"), pageOf);
    if (!bucket || bucket.length < 16) return undefined;
    const root = bucket.readBigUInt64LE(0);
    // Inline bucket: its page follows the bucket header inside the value.
    const last = lastKey(root === 0n ? { buf: bucket, off: 16 } : pageOf(root), pageOf);
    if (!last || last.length < 8) return undefined;
    return Number(last.readBigInt64BE(0));
  } catch {
    return undefined;
  }
}
