/**
 * Bech32 checksum verification (BIP-173), as age encodes its keys: `AGE-SECRET-KEY-1…` identities
 * and `age1…` recipients. Pure; lets config validation catch a mistyped or truncated key before
 * anything is created (the age library itself is asynchronous and loads as ESM).
 */
const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  }
  return chk >>> 0;
}

/** The human-readable part and the 5-bit data words of a valid Bech32 string; undefined otherwise. */
export function decodeBech32(text: string): { hrp: string; words: number[] } | undefined {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return undefined; // mixed case
  const s = text.toLowerCase();
  const sep = s.lastIndexOf("1");
  if (sep < 1 || sep + 7 > s.length) return undefined;
  const hrp = s.slice(0, sep);
  if ([...hrp].some((c) => c.charCodeAt(0) < 33 || c.charCodeAt(0) > 126)) return undefined;
  const words: number[] = [];
  for (const c of s.slice(sep + 1)) {
    const w = CHARSET.indexOf(c);
    if (w < 0) return undefined;
    words.push(w);
  }
  const expanded = [
    ...[...hrp].map((c) => c.charCodeAt(0) >> 5),
    0,
    ...[...hrp].map((c) => c.charCodeAt(0) & 31),
  ];
  if (polymod([...expanded, ...words]) !== 1) return undefined;
  return { hrp, words: words.slice(0, -6) };
}

/** An X25519 age identity: HRP `age-secret-key-` and 32 bytes of key (52 data words). */
export function isAgeIdentity(text: string): boolean {
  const key = text.trim();
  const decoded = decodeBech32(key);
  return decoded?.hrp === "age-secret-key-" && decoded.words.length === 52 && key === key.toUpperCase();
}
