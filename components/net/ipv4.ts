/**
 * IPv4 arithmetic for config validation: parse addresses, CIDRs and ranges
 * ("10.0.0.10-10.0.0.20" or "10.0.0.0/28"), test membership and overlap. Pure functions.
 */

/** An inclusive range of IPv4 addresses as unsigned 32-bit integers. */
export interface Ipv4Range {
  readonly first: number;
  readonly last: number;
}

export interface Ipv4Cidr extends Ipv4Range {
  readonly address: number;
  readonly prefix: number;
  readonly network: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses a dotted-quad IPv4 address; undefined when it is not one. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.trim().split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Parses `a.b.c.d/n`; undefined when malformed. */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) return undefined;
  const address = parseIpv4(m[1]);
  const prefix = Number(m[2]);
  if (address === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  return { address, prefix, network, first: network, last: network + size - 1 };
}

/** Parses a pool entry: a CIDR, a range `a-b` (first <= last), or a single address. */
export function parseRange(text: string): Ipv4Range | undefined {
  if (text.includes("/")) return parseCidr(text);
  if (text.includes("-")) {
    const [a, b, ...rest] = text.split("-");
    if (rest.length > 0) return undefined;
    const first = parseIpv4(a);
    const last = parseIpv4(b);
    if (first === undefined || last === undefined || first > last) return undefined;
    return { first, last };
  }
  const single = parseIpv4(text);
  return single === undefined ? undefined : { first: single, last: single };
}

export function rangeContains(range: Ipv4Range, address: number): boolean {
  return address >= range.first && address <= range.last;
}

export function rangesOverlap(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** True when `address` is a usable host of `cidr` (not the network or broadcast address for prefixes < 31). */
export function isHostInCidr(cidr: Ipv4Cidr, address: number): boolean {
  if (!rangeContains(cidr, address)) return false;
  if (cidr.prefix >= 31) return true;
  return address !== cidr.first && address !== cidr.last;
}
