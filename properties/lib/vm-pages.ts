// The hyp pages a present VM is built from: its metadata and stage-2 root, each vCPU's metadata,
// the pages waiting in each vCPU memcache, and the guest stage-2 leaf tables. All hyp OWNED.

import type { PkvmState } from "../../model/state.js";

export enum Use {
  META = 0,
  VCPU = 1,
  MEMCACHE = 2,
  TABLE = 3,
}

/** "vcpu 1 memcache": what a page is used for, for a message. */
export function useName(v: number, use: Use, i: number): string {
  switch (use) {
    case Use.META:
      return `vm ${v} metadata`;
    case Use.VCPU:
      return `vm ${v} vcpu ${i} metadata`;
    case Use.MEMCACHE:
      return `vm ${v} vcpu ${i} memcache`;
    case Use.TABLE:
      return `vm ${v} stage-2 table ${i}`;
  }
}

/**
 * Calls fn on every hyp page of VM slot v (present or not: the caller decides) with what it is
 * used for; stops at, and returns, fn's first non-null answer.
 */
export function findVmPage<T>(s: PkvmState, v: number, fn: (p: number, use: Use, i: number) => T | null): T | null {
  let r = fn(s.vmMetaPfn(v), Use.META, 0);
  if (r !== null) return r;
  const l = s.w.vm[v];
  for (let i = 0; i < s.w.config.vms[v].vcpus; i++) {
    if (s.vcpuPfn(v, i) >= 0 && (r = fn(s.vcpuPfn(v, i), Use.VCPU, i)) !== null) return r;
    if (!s.w.config.memcache) continue;
    const n = Math.min(s.memcacheCount(v, i), s.w.memcacheCap);
    for (let k = 0; k < n; k++) if ((r = fn(s.memcachePage(v, i, k), Use.MEMCACHE, i)) !== null) return r;
  }
  for (let t = 0; t < l.nTables; t++) if (s.tablePfn(v, t) >= 0 && (r = fn(s.tablePfn(v, t), Use.TABLE, t)) !== null) return r;
  return null;
}
