/**
 * `relay pii scan FILE… [--json]`: the share-back PII scanner on STIX files, without a node or
 * a config. Each file is a bundle, a TAXII envelope, a JSON array of objects or one object; the
 * objects of one file are scanned together (threat names in the file are not person names).
 *
 * --json: one line per object, in file order: {"id": "...", "findings": [{"path": "description",
 * "kind": "email", "start": 10, "end": 31}]} (start/end: UTF-16 offsets into that property's
 * string, end exclusive). This format is read by tests outside the project: keep it.
 * Without --json: each object with findings, one line per finding, then a summary.
 *
 * Exit status: 0 when every file was scanned (findings or not), 1 when a file could not be read
 * or parsed (the others are still scanned), 2 on a usage error.
 */
import { readFileSync } from 'node:fs';
import { objectsOfDocument } from '../ingest/index.ts';
import { PII_KINDS, scanObjects, type Finding, type PiiKind } from '../shareback/pii/index.ts';
import { CliError } from './errors.ts';

export interface PiiScanOptions {
  readonly json: boolean;
}

const write = (line: string) => process.stdout.write(`${line}\n`);

function valueAt(object: unknown, path: string): string | undefined {
  let v: unknown = object;
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    const key = m[1] ?? m[2] ?? (JSON.parse(m[3] as string) as string);
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return typeof v === 'string' ? v : undefined;
}

function describe(object: unknown, f: Finding): string {
  const text = valueAt(object, f.path)?.slice(f.start, f.end) ?? '';
  return `  ${f.path}  ${f.kind}  [${f.start}, ${f.end})  ${JSON.stringify(text)}`;
}

export async function runPiiScan(files: string[], options: PiiScanOptions): Promise<number> {
  if (files.length === 0) throw new CliError('usage: relay pii scan FILE… [--json]');
  let failed = false;
  let objects = 0;
  let flagged = 0;
  const byKind = new Map<PiiKind, number>();
  for (const file of files) {
    let batch: unknown[];
    try {
      batch = objectsOfDocument(JSON.parse(readFileSync(file, 'utf8')));
    } catch (error) {
      const reason = error instanceof SyntaxError ? `not valid JSON: ${error.message}` : (error as Error).message;
      process.stderr.write(`relay pii scan: ${file}: ${reason}\n`);
      failed = true;
      continue;
    }
    const results = scanObjects(batch);
    results.forEach(({ id, findings }, i) => {
      objects++;
      if (options.json) {
        write(JSON.stringify({ id, findings: findings.map((f) => ({ path: f.path, kind: f.kind, start: f.start, end: f.end })) }));
        return;
      }
      if (findings.length === 0) return;
      flagged++;
      write(`${id || `(object ${i} without id)`}  ${file}`);
      for (const f of findings) {
        byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
        write(describe(batch[i], f));
      }
    });
  }
  if (!options.json) {
    const total = [...byKind.values()].reduce((a, b) => a + b, 0);
    const kinds = PII_KINDS.filter((k) => byKind.has(k)).map((k) => `${k} ${byKind.get(k)}`);
    write(
      `${objects} object${objects === 1 ? '' : 's'} scanned, ${flagged} with personal data, ${total} finding${total === 1 ? '' : 's'}${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`,
    );
  }
  return failed ? 1 : 0;
}
