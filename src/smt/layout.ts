// What a world config fixes, as terms: the memblock layout (segment of every pfn and its kind),
// the address limit, the VM slots. Concrete for a given config (finite backend: differential
// test, BMC), or symbolic for the proofs, where only these choices stay fixed:
//   - blockPages, because alignment (pfn % blockPages) by a symbolic divisor is non-linear;
//   - the number of VM slots and of vCPU slots per VM (each slot's vcpus count, gfns and
//     protected flag are symbolic);
//   - memcache: false (the vCPU memcache is not encoded).
// Everything else is free: the number of pages, where RAM, NOMAP and MMIO lie (segment ids as an
// array pfn -> segment, monotone, the gap past the limit running to infinity), maxShareCount,
// each VM's guest address space.

import { SegKind, type World } from "../../model/world.js";
import { finiteBackend, unboundedBackend, type Backend, type Domain } from "./domain.js";
import type { B, N, Smt } from "./z3.js";

export interface VmSlot {
  readonly protected: B;
  /** vCPUs of the VM: slots 0 .. vcpus - 1 of `vcpuSlots` exist. */
  readonly vcpus: N;
  readonly vcpuSlots: number;
  readonly gfns: N;
  readonly gfnDom: Domain;
}

export interface Layout {
  readonly smt: Smt;
  readonly backend: Backend;
  readonly pages: N;
  readonly pageDom: Domain;
  readonly blockPages: number;
  readonly maxShareCount: N;
  readonly vms: readonly VmSlot[];
  /** The config's facts about the symbolic parts; empty for a concrete config. */
  readonly axioms: readonly B[];
  /** The concrete world, when there is one. */
  readonly world?: World;
  segOf(p: N): N;
  segKind(seg: N): N;
  isMemory(p: N): B;
}

/** A concrete config, for the finite backend (or the unbounded one: the differential test). */
export function concreteLayout(smt: Smt, w: World, unbounded = false): Layout {
  if (w.config.memcache) throw new Error("the SMT encoding does not model the vCPU memcache (memcache: true)");
  const backend = unbounded ? unboundedBackend(smt) : finiteBackend(smt);
  const pages = smt.int(w.pages);
  const segs = Array.from(w.seg);
  const segField = backend.domain(smt.int(w.pages)).concrete("int", segs);
  const kindField = backend.domain(smt.int(w.segKind.length)).concrete("int", w.segKind);
  const segOf = (p: N): N => {
    const k = smt.num(p);
    // A negative pfn (pfn + nr - 1 with nr == 0) is read only where the caller has refused it.
    if (k !== undefined) return smt.int(k < 0 ? -1 : w.segOf(k));
    return smt.ite(smt.lt(p, pages), segField.at(p), smt.int(w.pastLimitSeg));
  };
  const segKind = (seg: N): N => {
    const k = smt.num(seg);
    return k !== undefined ? smt.int(w.segKind[k] ?? SegKind.GAP) : kindField.at(seg);
  };
  return {
    smt,
    backend,
    pages,
    pageDom: backend.domain(pages),
    blockPages: w.config.blockPages,
    maxShareCount: smt.int(w.config.maxShareCount),
    vms: w.config.vms.map((v) => ({
      protected: smt.bool(v.protected),
      vcpus: smt.int(v.vcpus),
      vcpuSlots: v.vcpus,
      gfns: smt.int(v.gfns),
      gfnDom: backend.domain(smt.int(v.gfns)),
    })),
    axioms: [],
    world: w,
    segOf,
    segKind,
    isMemory: (p) => {
      const k = smt.num(p);
      if (k !== undefined) return smt.bool(w.isMemory(k));
      return smt.and(smt.inRange(p, 0, pages), smt.ne(segKind(segOf(p)), SegKind.GAP));
    },
  };
}

export interface ShapeOptions {
  /** VM slots (default 2): by symmetry, a proof for slot 0 acting covers every slot. */
  vms?: number;
  /** vCPU slots per VM (default 2). */
  vcpuSlots?: number;
  /** Pages in a stage-2 block (default 2; the kernel's is 512). */
  blockPages?: number;
}

/** A config with every size symbolic but the shape (ShapeOptions) fixed: for the proofs. */
export function symbolicLayout(smt: Smt, opts: ShapeOptions = {}): Layout {
  const { Z } = smt;
  const backend = unboundedBackend(smt);
  const pages = Z.Int.const("cfg.pages");
  const seg = Z.Array.const("cfg.seg", Z.Int.sort(), Z.Int.sort());
  const kind = Z.Array.const("cfg.segKind", Z.Int.sort(), Z.Int.sort());
  const segOf = (p: N): N => seg.select(p) as N;
  const segKind = (s: N): N => kind.select(s) as N;
  const p = Z.Int.const("cfg!p");
  const q = Z.Int.const("cfg!q");
  const s = Z.Int.const("cfg!s");
  const nVcpu = opts.vcpuSlots ?? 2;
  const vms: VmSlot[] = Array.from({ length: opts.vms ?? 2 }, (_, v) => {
    const gfns = Z.Int.const(`cfg.vm${v}.gfns`);
    return {
      protected: Z.Bool.const(`cfg.vm${v}.protected`),
      vcpus: Z.Int.const(`cfg.vm${v}.vcpus`),
      vcpuSlots: nVcpu,
      gfns,
      gfnDom: backend.domain(gfns),
    };
  });
  const maxShareCount = Z.Int.const("cfg.maxShareCount");
  const axioms: B[] = [
    pages.ge(1),
    // Segments are runs of consecutive pfns: the segment id never decreases along memory.
    Z.ForAll([p, q], Z.Implies(Z.And(p.ge(0), p.le(q)), segOf(p).le(segOf(q)))),
    // Past the limit lies one gap that runs to infinity.
    Z.ForAll([p], Z.Implies(p.ge(pages), segOf(p).eq(segOf(pages)))),
    segKind(segOf(pages)).eq(SegKind.GAP),
    Z.ForAll([s], Z.And(segKind(s).ge(SegKind.MEMORY), segKind(s).le(SegKind.GAP))),
    maxShareCount.ge(1),
    ...vms.flatMap((v) => [v.gfns.ge(0), v.vcpus.ge(0), v.vcpus.le(nVcpu)]),
  ];
  return {
    smt,
    backend,
    pages,
    pageDom: backend.domain(pages),
    blockPages: opts.blockPages ?? 2,
    maxShareCount,
    vms,
    axioms,
    segOf,
    segKind,
    isMemory: (x) => smt.and(smt.inRange(x, 0, pages), smt.ne(segKind(segOf(x)), SegKind.GAP)),
  };
}
