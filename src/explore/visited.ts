// The visited set of the exhaustive search: 64-bit fingerprints in one open-addressing table
// (8 bytes a slot, linear probing), and the parent links that make every counterexample a
// shortest trace (the parent's index and the alphabet index of the step, 8 bytes a state).
// No per-state JS objects: everything lives in typed arrays.
//
// An indexed set (for the temporal properties' state graph) also keeps each slot's state index,
// 4 bytes a slot, so that a transition into a state already seen knows which state it reached.
//
// The table grows by half when 85% full, so it stays between 57% and 85% full: 9.4 to 14.1
// bytes a state. Slots are picked by multiply-shift ("fastrange"), which needs no power of two.

const MAX_LOAD = 0.85;
const GROWTH = 1.5;

export class VisitedSet {
  private table: Uint32Array; // [hi, lo] per slot; [0, 0] is an empty slot
  private slots: number;
  private parents = new Uint32Array(1 << 16);
  private vias = new Uint32Array(1 << 16);
  private index: Uint32Array | undefined;
  size = 0;
  /** After add() returned false on an indexed set: the index of the state already there. */
  seen = -1;

  constructor(initialSlots = 1 << 12, indexed = false) {
    this.table = new Uint32Array(initialSlots * 2);
    this.slots = initialSlots;
    if (indexed) this.index = new Uint32Array(initialSlots);
  }

  has(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    for (let i = this.slot(hi, lo); ; i = this.nextSlot(i)) {
      const h = this.table[2 * i];
      const l = this.table[2 * i + 1];
      if (h === hi && l === lo) return true;
      if (h === 0 && l === 0) return false;
    }
  }

  private slot(hi: number, lo: number): number {
    return Math.floor(((lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0) * this.slots / 4294967296);
  }

  private nextSlot(i: number): number {
    return i + 1 === this.slots ? 0 : i + 1;
  }

  /** Adds a fingerprint; true if it was new. The new state's index is `size - 1`. */
  add(hi: number, lo: number, parent: number, via: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    let i = this.slot(hi, lo);
    const t = this.table;
    for (;;) {
      const h = t[2 * i];
      const l = t[2 * i + 1];
      if (h === 0 && l === 0) break;
      if (h === hi && l === lo) {
        if (this.index) this.seen = this.index[i];
        return false;
      }
      i = this.nextSlot(i);
    }
    t[2 * i] = hi;
    t[2 * i + 1] = lo;
    if (this.index) this.index[i] = this.size;
    if (this.size === this.parents.length) this.growLinks();
    this.parents[this.size] = parent;
    this.vias[this.size] = via;
    this.size++;
    if (this.size > MAX_LOAD * this.slots) this.rehash();
    return true;
  }

  /** The alphabet indices of the steps from the initial state (index 0) to state `index`. */
  pathTo(index: number): number[] {
    const path: number[] = [];
    for (let i = index; i !== 0; i = this.parents[i]) path.push(this.vias[i]);
    return path.reverse();
  }

  /** Bytes held by the fingerprint table, and by the parent links. */
  bytes(): { table: number; links: number } {
    return { table: this.table.byteLength + (this.index?.byteLength ?? 0), links: this.size * 8 };
  }

  private growLinks(): void {
    const p = new Uint32Array(this.parents.length * 2);
    p.set(this.parents);
    this.parents = p;
    const v = new Uint32Array(this.vias.length * 2);
    v.set(this.vias);
    this.vias = v;
  }

  private rehash(): void {
    const old = this.table;
    const oldIndex = this.index;
    this.slots = Math.ceil(this.slots * GROWTH);
    this.table = new Uint32Array(this.slots * 2);
    if (oldIndex) this.index = new Uint32Array(this.slots);
    for (let j = 0; j < old.length; j += 2) {
      const hi = old[j];
      const lo = old[j + 1];
      if (hi === 0 && lo === 0) continue;
      let i = this.slot(hi, lo);
      while (this.table[2 * i] !== 0 || this.table[2 * i + 1] !== 0) i = this.nextSlot(i);
      this.table[2 * i] = hi;
      this.table[2 * i + 1] = lo;
      if (oldIndex) this.index![i] = oldIndex[j / 2];
    }
  }
}
