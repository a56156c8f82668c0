// A set of pfns that answers "how many" and "the i-th smallest" in O(log pages) and changes one
// member in O(log pages): a membership bitmap and a Fenwick tree of counts. The random engine's
// page pools keep one per pool, updated with the pages a step changed, so that drawing "a page
// the host owns" in a 4,096-page world does not scan 4,096 pages.

export class PageSet {
  private readonly member: Uint8Array;
  private readonly tree: Int32Array;
  private readonly top: number;
  length = 0;

  constructor(readonly pages: number) {
    this.member = new Uint8Array(pages);
    this.tree = new Int32Array(pages + 1);
    let top = 1;
    while (top * 2 <= pages) top *= 2;
    this.top = top;
  }

  has(p: number): boolean {
    return this.member[p] === 1;
  }

  set(p: number, on: boolean): void {
    const m = on ? 1 : 0;
    if (this.member[p] === m) return;
    this.member[p] = m;
    const d = on ? 1 : -1;
    this.length += d;
    for (let i = p + 1; i <= this.pages; i += i & -i) this.tree[i] += d;
  }

  /** The i-th smallest member (0-based, i < length). */
  at(i: number): number {
    let pos = 0;
    let rem = i + 1;
    for (let step = this.top; step > 0; step >>= 1) {
      if (pos + step <= this.pages && this.tree[pos + step] < rem) {
        pos += step;
        rem -= this.tree[pos];
      }
    }
    return pos;
  }

  copyFrom(o: PageSet): void {
    this.member.set(o.member);
    this.tree.set(o.tree);
    this.length = o.length;
  }
}
