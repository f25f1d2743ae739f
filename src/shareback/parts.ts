/**
 * Parts of a STIX object: the PII scanner's finding paths (`external_references[0].description`,
 * `x_notes["full name"]`, `objects.0.display_name`), granular-marking selectors
 * (`external_references.[0].description`), and removing parts while keeping every granular
 * marking pointing at what it marked: a removed list element shifts the indexes after it, so
 * selectors are re-pointed; a selector whose content was removed is dropped (there is nothing
 * left to mark), and a marking left without selectors goes with it.
 */
import { indexPath, keyPath } from './pii/paths.ts';

/** One step into a JSON value: an object key or a list index. */
export type Step = string | number;
export type Path = readonly Step[];

type Json = Record<string, unknown>;
export const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const KEY = /[A-Za-z0-9_$-]+/y;
const INDEX = /\[(\d+)\]/y;
const QUOTED = /\[("(?:[^"\\]|\\.)*")\]/y;

/** The steps of a finding path as the PII scanner writes them (see pii/paths.ts). */
export function parseFindingPath(path: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === '.' && steps.length > 0) i++;
    const at = (re: RegExp): RegExpExecArray | null => {
      re.lastIndex = i;
      const m = re.exec(path);
      if (m) i = re.lastIndex;
      return m;
    };
    const index = at(INDEX);
    if (index) {
      steps.push(Number(index[1]));
      continue;
    }
    const quoted = at(QUOTED);
    if (quoted) {
      steps.push(JSON.parse(quoted[1] as string) as string);
      continue;
    }
    const key = at(KEY);
    if (key) {
      steps.push(key[0]);
      continue;
    }
    throw new SyntaxError(`not a finding path: '${path}' (at ${i})`);
  }
  if (steps.length === 0) throw new SyntaxError('empty finding path');
  return steps;
}

/** A path written as the PII scanner writes finding paths. */
export function formatFindingPath(steps: Path): string {
  return steps.reduce<string>((out, s) => (typeof s === 'number' ? indexPath(out, s) : keyPath(out, s)), '');
}

/** The steps of a granular-marking selector: dot-separated, list indexes as `[n]`. */
export function parseSelector(selector: string): Step[] {
  return selector.split('.').map((c) => (/^\[\d+\]$/.test(c) ? Number(c.slice(1, -1)) : c));
}

export function formatSelector(steps: Path): string {
  return steps.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.');
}

/** The value at `steps`, or undefined when there is none. */
export function valueAt(value: unknown, steps: Path): unknown {
  let v = value;
  for (const s of steps) {
    if (typeof s === 'number') {
      if (!Array.isArray(v) || s >= v.length) return undefined;
      v = v[s];
    } else {
      if (!isRecord(v) || !Object.hasOwn(v, s)) return undefined;
      v = v[s];
    }
  }
  return v;
}

/** Whether a selector points at content present in the object (STIX requires it to). */
export function selectorResolves(object: unknown, selector: string): boolean {
  return valueAt(object, parseSelector(selector)) !== undefined;
}

const pathKey = (steps: Path): string => JSON.stringify(steps);

export interface Removed<T> {
  readonly object: T;
  /** the removed paths (original positions), with lists removal left empty, outermost last */
  readonly removed: readonly Path[];
}

/**
 * A copy of `object` without the parts at `paths` (positions in the original). A list left empty
 * is removed as well (STIX lists are never empty). Granular markings are re-pointed at the copy.
 */
export function removeParts<T extends Json>(object: T, paths: readonly Path[]): Removed<T> {
  const removed = new Set(paths.map(pathKey));
  const gone: Path[] = [];
  const lists = new Map<string, number[]>(); // original list path -> new index of each old index (-1: removed)
  const GONE = Symbol('gone');
  const leave = (p: Path): void => {
    removed.add(pathKey(p));
    gone.push(p);
  };

  /** the copy of `value`, or GONE when it is removed or is a list that removal left empty */
  const copy = (value: unknown, at: Step[]): unknown => {
    if (removed.has(pathKey(at))) return GONE;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      const map: number[] = [];
      value.forEach((v, i) => {
        const c = copy(v, [...at, i]);
        map.push(c === GONE ? -1 : out.length);
        if (c === GONE) leave([...at, i]);
        else out.push(c);
      });
      lists.set(pathKey(at), map);
      return out.length === 0 && value.length > 0 ? GONE : out;
    }
    if (isRecord(value)) {
      const out: Json = {};
      for (const [k, v] of Object.entries(value)) {
        const c = copy(v, [...at, k]);
        if (c === GONE) leave([...at, k]);
        else out[k] = c;
      }
      return out;
    }
    return value;
  };

  const out = copy(object, []) as Json;

  const remap = (selector: string): string | null => {
    const steps = parseSelector(selector);
    const mapped: Step[] = [];
    for (let n = 0; n < steps.length; n++) {
      const prefix = steps.slice(0, n + 1);
      if (removed.has(pathKey(prefix))) return null;
      const s = steps[n] as Step;
      const map = typeof s === 'number' ? lists.get(pathKey(steps.slice(0, n))) : undefined;
      const to = map?.[s as number];
      mapped.push(to === undefined ? s : to);
    }
    return formatSelector(mapped);
  };

  const granular = object.granular_markings;
  if (Array.isArray(granular)) {
    const kept = granular.flatMap((g: unknown) => {
      if (!isRecord(g) || !Array.isArray(g.selectors)) return [g];
      const selectors = g.selectors.map((s) => (typeof s === 'string' ? remap(s) : s)).filter((s) => s !== null);
      return selectors.length === 0 ? [] : [{ ...g, selectors }];
    });
    // assigning keeps the property where it was
    if (kept.length > 0) out.granular_markings = kept;
    else delete out.granular_markings;
  }
  return { object: out as T, removed: gone };
}
