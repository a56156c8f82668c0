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

/**
 * An additive fingerprint: each lane is the sum of a hash of every (index, word) pair, so that a
 * step that changed k words updates it in O(k) (`AdditiveFingerprint.update`) instead of hashing
 * the whole state again. The random engine, whose states in a big world are tens of thousands
 * of words of which a step changes a handful, keeps one; the exhaustive search hashes whole
 * states (fingerprint).
 */
export class AdditiveFingerprint {
  a = 0;
  b = 0;

  /** The fingerprint of a whole state. */
  reset(s: Uint32Array): void {
    this.a = 0;
    this.b = 0;
    for (let i = 0; i < s.length; i++) this.add(i, s[i], 1);
  }

  /** From the state `pre` to `post`, which differ only at the `n` word indices in `changed`. */
  update(pre: Uint32Array, post: Uint32Array, changed: Int32Array, n: number): void {
    for (let j = 0; j < n; j++) {
      const i = changed[j];
      this.add(i, pre[i], -1);
      this.add(i, post[i], 1);
    }
  }

  /** Into FP, as fingerprint does. */
  get(): void {
    FP[0] = fmix(this.a);
    FP[1] = fmix(this.b ^ this.a);
  }

  private add(i: number, v: number, sign: number): void {
    const x = Math.imul(i + 1, 0x9e3779b1) ^ v;
    this.a = (this.a + sign * fmix(Math.imul(x, 0xcc9e2d51) ^ 0x85ebca6b)) | 0;
    this.b = (this.b + sign * fmix(Math.imul(x ^ 0x27d4eb2f, 0x1b873593) + i)) | 0;
  }
}
