// The world config of interface.md: parsed and validated once, so that the model never sees a
// malformed world. Every user-caused error names the key it concerns.

import { MAX_STATE_WORDS, stateFootprint } from "./world.js";

export class InputError extends Error {
  override name = "InputError";
}

export interface VmConfig {
  protected: boolean;
  vcpus: number;
  gfns: number;
}

export interface WorldConfig {
  pages: number;
  mmio: [number, number][];
  nomap: number[];
  hypPages: number[];
  blockPages: number;
  maxShareCount: number;
  memcache: boolean;
  vms: VmConfig[];
}

const KEYS = ["pages", "mmio", "nomap", "hypPages", "blockPages", "maxShareCount", "memcache", "vms"];
const VM_KEYS = ["protected", "vcpus", "gfns"];

// Packed into 24 bits of a state word (pfn and gfn fields), and VM / vCPU indices into 8.
export const MAX_PAGES = 1 << 24;
export const MAX_GFNS = 1 << 24;
export const MAX_VMS = 255;
export const MAX_VCPUS = 255;
const U32_MAX = 4294967295;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function uint(x: unknown, key: string, min: number, max: number): number {
  if (typeof x !== "number" || !Number.isInteger(x)) throw new InputError(`${key}: expected an integer`);
  if (x < min || x > max) throw new InputError(`${key}: ${x} is outside ${min}..${max}`);
  return x;
}

function pfnList(x: unknown, key: string, pages: number): number[] {
  if (!Array.isArray(x)) throw new InputError(`${key}: expected an array of pfns`);
  const seen = new Uint8Array(pages);
  return x.map((p, i) => {
    const pfn = uint(p, `${key}[${i}]`, 0, pages - 1);
    if (seen[pfn] === 1) throw new InputError(`${key}[${i}]: pfn ${pfn} listed twice`);
    seen[pfn] = 1;
    return pfn;
  });
}

function vmConfig(x: unknown, key: string): VmConfig {
  if (!isObject(x)) throw new InputError(`${key}: expected an object`);
  for (const k of Object.keys(x)) if (!VM_KEYS.includes(k)) throw new InputError(`${key}.${k}: unknown key`);
  if (typeof x.protected !== "boolean") throw new InputError(`${key}.protected: expected a boolean`);
  return {
    protected: x.protected,
    vcpus: uint(x.vcpus, `${key}.vcpus`, 0, MAX_VCPUS),
    gfns: uint(x.gfns, `${key}.gfns`, 0, MAX_GFNS),
  };
}

/** Validates a world config (already parsed from JSON) and fills in the defaults. */
export function parseWorldConfig(x: unknown, where = "config"): WorldConfig {
  if (!isObject(x)) throw new InputError(`${where}: expected a JSON object`);
  for (const k of Object.keys(x)) if (!KEYS.includes(k)) throw new InputError(`${where}.${k}: unknown key`);
  if (x.pages === undefined) throw new InputError(`${where}.pages: required`);
  const pages = uint(x.pages, `${where}.pages`, 1, MAX_PAGES);
  // The pages alone may not fit: say so before any per-page array is made.
  checkWorldFits({ pages, mmio: [], nomap: [], hypPages: [], blockPages: 1, maxShareCount: 1, memcache: false, vms: [] }, where);

  const mmio: [number, number][] = [];
  // Marks, not list scans: a config may list every one of millions of pages.
  const mmioMark = new Uint8Array(pages);
  if (x.mmio !== undefined) {
    if (!Array.isArray(x.mmio)) throw new InputError(`${where}.mmio: expected an array of [start, end) pairs`);
    x.mmio.forEach((r, i) => {
      const key = `${where}.mmio[${i}]`;
      if (!Array.isArray(r) || r.length !== 2) throw new InputError(`${key}: expected [start, end)`);
      const start = uint(r[0], `${key}[0]`, 0, pages - 1);
      const end = uint(r[1], `${key}[1]`, start + 1, pages);
      if (mmioMark.subarray(start, end).includes(1)) throw new InputError(`${key}: overlaps another mmio range`);
      mmioMark.fill(1, start, end);
      mmio.push([start, end]);
    });
  }
  const isMmio = (p: number) => mmioMark[p] === 1;

  const nomap = x.nomap === undefined ? [] : pfnList(x.nomap, `${where}.nomap`, pages);
  nomap.forEach((p, i) => {
    if (isMmio(p)) throw new InputError(`${where}.nomap[${i}]: pfn ${p} is mmio, not RAM`);
  });
  const hypPages = x.hypPages === undefined ? [] : pfnList(x.hypPages, `${where}.hypPages`, pages);
  const isNomap = new Set(nomap);
  hypPages.forEach((p, i) => {
    if (isMmio(p)) throw new InputError(`${where}.hypPages[${i}]: pfn ${p} is mmio, not RAM`);
    if (isNomap.has(p)) throw new InputError(`${where}.hypPages[${i}]: pfn ${p} is also in nomap`);
  });

  const blockPages = x.blockPages === undefined ? 512 : uint(x.blockPages, `${where}.blockPages`, 1, MAX_GFNS);
  const maxShareCount =
    x.maxShareCount === undefined ? U32_MAX : uint(x.maxShareCount, `${where}.maxShareCount`, 1, U32_MAX);
  if (x.memcache !== undefined && typeof x.memcache !== "boolean") {
    throw new InputError(`${where}.memcache: expected a boolean`);
  }
  if (x.vms !== undefined && !Array.isArray(x.vms)) throw new InputError(`${where}.vms: expected an array`);
  if (x.vms !== undefined && x.vms.length > MAX_VMS) throw new InputError(`${where}.vms: at most ${MAX_VMS} VMs`);
  const vms = ((x.vms as unknown[]) ?? []).map((v, i) => vmConfig(v, `${where}.vms[${i}]`));

  const config = { pages, mmio, nomap, hypPages, blockPages, maxShareCount, memcache: x.memcache === true, vms };
  checkWorldFits(config, where);
  return config;
}

const mib = (words: number) => `${((words * 4) / 2 ** 20).toFixed(1)} MiB`;

/** Refuses, before anything is allocated, a world whose state would not fit, naming the key that takes most. */
function checkWorldFits(c: WorldConfig, where: string): void {
  const f = stateFootprint(c);
  if (f.words > MAX_STATE_WORDS) {
    throw new InputError(
      `${where}.${f.key}: a state of this world would take ${mib(f.words)} (${f.why}), over the ${mib(MAX_STATE_WORDS)} a state may take`,
    );
  }
}
