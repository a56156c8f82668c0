// 64-bit fingerprint of a state's words: two independent 32-bit murmur3-style lanes. No BigInt
// and no allocation: the result lands in FP[0] (high) and FP[1] (low).

export const FP = new Uint32Array(2);

export function fingerprint(s: Uint32Array): void {
  let h1 = 0x9747b28c;
  let h2 = 0x85ebca6b ^ s.length;
  for (let i = 0; i < s.length; i++) {
    let k = Math.imul(s[i], 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h1 ^= k;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    h2 = Math.imul(h2 ^ s[i] ^ (h2 >>> 15), 0x2c1b3c6d);
    h2 = (h2 + i) | 0;
  }
  FP[0] = fmix(h1 ^ s.length);
  FP[1] = fmix(h2 ^ h1);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The fingerprint as 16 hex digits, for messages and file names. */
export function fingerprintHex(s: Uint32Array): string {
  fingerprint(s);
  return FP[0].toString(16).padStart(8, "0") + FP[1].toString(16).padStart(8, "0");
}
