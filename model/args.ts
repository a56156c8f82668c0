// Arguments of every action, as one fixed-shape object: the parser fills the fields an action
// names and zeroes the rest, so the engines' hot path sees a single monomorphic shape.

export interface Args {
  vm: number;
  vcpu: number;
  pfn: number;
  gfn: number;
  nr_pages: number;
  /** Bitmask of PROT_R | PROT_W | PROT_X; traces spell it "RWX". */
  prot: number;
  mkold: boolean;
}

export type ArgName = keyof Args;

export function makeArgs(a: Partial<Args> = {}): Args {
  return { vm: 0, vcpu: 0, pfn: 0, gfn: 0, nr_pages: 0, prot: 0, mkold: false, ...a };
}

const PROT_LETTERS = ["R", "W", "X"] as const;

/** "RWX", "RX", "" ...: the letters R, W, X in that order; null for any other string. */
export function parseProt(s: string): number | null {
  if (!/^R?W?X?$/.test(s)) return null;
  return PROT_LETTERS.reduce((m, l, i) => (s.includes(l) ? m | (1 << i) : m), 0);
}

export function formatProt(prot: number): string {
  return PROT_LETTERS.filter((_, i) => prot & (1 << i)).join("");
}
