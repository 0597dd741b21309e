/**
 * Random secrets in the formats Talos' secrets bundle uses. Pure apart from the CSPRNG.
 */
import * as crypto from "node:crypto";
import { toBase64, toBase64UrlPadded } from "./encoding";

const TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** kubeadm-style token as Talos' `genToken(6, 16)` makes it. */
export const TOKEN_RE = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

/** `n` characters of [a-z0-9]; bytes >= 252 are rejected so each character is uniform (252 = 7 * 36). */
function randomChars(n: number): string {
  let out = "";
  while (out.length < n) {
    for (const b of crypto.randomBytes(n * 2)) {
      if (b >= 252) continue;
      out += TOKEN_ALPHABET[b % TOKEN_ALPHABET.length];
      if (out.length === n) break;
    }
  }
  return out;
}

/** `[a-z0-9]{6}.[a-z0-9]{16}` (bootstrap and trustd tokens). */
export function generateToken(): string {
  return `${randomChars(6)}.${randomChars(16)}`;
}

/** 32 random bytes, standard base64 (cluster secret, secretbox key). */
export function randomBase64(bytes = 32): string {
  return toBase64(crypto.randomBytes(bytes));
}

/** 32 random bytes, URL-safe base64 with padding (cluster id). */
export function randomBase64Url(bytes = 32): string {
  return toBase64UrlPadded(crypto.randomBytes(bytes));
}
