/**
 * Argument parsing for `relay` commands. Each command declares a table of options (a placeholder,
 * a help line, a parser that turns the text into a typed value or says what it expects) and its
 * positional arguments; parseArguments() checks an argument list against that table once.
 * node:util's parseArgs splits the list into tokens; everything it would only warn about (unknown
 * options, missing values, values of the wrong kind) is a UsageError naming the option.
 */
import { parseArgs } from 'node:util';
import { CliError } from './errors.ts';

/** A usage error: printed with the command's synopsis, exit code 2. */
export class UsageError extends CliError {}

/** An option that takes a value. `Present` is true when it is always set (required or defaulted). */
export class ValueOption<T, Present extends boolean = false> {
  readonly kind = 'value';
  constructor(
    /** the value's placeholder in usage text: "PATH", "N" */
    readonly placeholder: string,
    readonly help: string,
    /** text -> value; throws an Error whose message says what is expected */
    readonly parse: (text: string) => T,
    readonly short?: string,
    readonly isRequired = false,
    readonly fallback?: { readonly value: T; readonly text: string },
  ) {}

  /** The command refuses to run without it. */
  required(): ValueOption<T, true> {
    return new ValueOption<T, true>(this.placeholder, this.help, this.parse, this.short, true);
  }

  /** The value when the option is not given (`text` is shown in usage). */
  orElse(value: T, text = String(value)): ValueOption<T, true> {
    return new ValueOption<T, true>(this.placeholder, this.help, this.parse, this.short, false, { value, text });
  }

  /** A one-letter alias (`-c`). */
  alias(short: string): ValueOption<T, Present> {
    return new ValueOption<T, Present>(this.placeholder, this.help, this.parse, short, this.isRequired, this.fallback);
  }
}

/** An option without a value: false unless given. */
export interface FlagOption {
  readonly kind: 'flag';
  readonly help: string;
  readonly short?: string;
}

export type AnyOption = ValueOption<unknown, boolean> | FlagOption;
export type OptionTable = Readonly<Record<string, AnyOption>>;

export type OptionValues<O extends OptionTable> = {
  -readonly [K in keyof O]: O[K] extends FlagOption
    ? boolean
    : O[K] extends ValueOption<infer T, true>
      ? T
      : O[K] extends ValueOption<infer T, boolean>
        ? T | undefined
        : never;
};

/** A positional argument: exactly one (default), optional, or one or more (`variadic`, last). */
export interface PositionalSpec {
  readonly name: string;
  readonly optional?: boolean;
  readonly variadic?: boolean;
  /** the only values accepted, shown in usage as `a|b|c` */
  readonly choices?: readonly string[];
}

export type PositionalValues<P extends readonly PositionalSpec[]> = {
  -readonly [E in P[number] as E['name']]: E extends { variadic: true }
    ? string[]
    : E extends { optional: true }
      ? string | undefined
      : string;
};

/** Value parsers: each returns the value or throws with what it expects. */
const expect = (what: string) => (text: string) => new Error(`expects ${what}, got "${text}"`);

export const flag = (help: string, short?: string): FlagOption => ({ kind: 'flag', help, ...(short ? { short } : {}) });

export const text = (placeholder: string, help: string) =>
  new ValueOption(placeholder, help, (t) => {
    if (t === '') throw new Error(`expects ${placeholder}, got an empty value`);
    return t;
  });

export const positiveInteger = (placeholder: string, help: string) =>
  new ValueOption(placeholder, help, (t) => {
    const n = Number(t);
    if (!/^\d+$/.test(t) || !Number.isSafeInteger(n) || n < 1) throw expect('a positive integer')(t);
    return n;
  });

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration such as "30s", "5m", "12h" or "7d", in milliseconds; `units` limits the units. */
export const duration = (placeholder: string, help: string, units: readonly (keyof typeof UNIT_MS)[] = ['ms', 's', 'm', 'h', 'd']) =>
  new ValueOption(placeholder, help, (t) => {
    const m = /^(\d+)([a-z]+)$/.exec(t);
    const unit = m?.[2] as keyof typeof UNIT_MS | undefined;
    const ms = m && unit && units.includes(unit) ? Number(m[1]) * UNIT_MS[unit] : NaN;
    if (!(ms > 0)) throw expect(`a duration such as "30s", "12h" or "7d" (units: ${units.join(', ')})`)(t);
    return ms;
  });

/** One of a fixed set of words. */
export const oneOf = <const C extends readonly string[]>(help: string, choices: C) =>
  new ValueOption<C[number]>(choices.join('|'), help, (t) => {
    if (!choices.includes(t)) throw expect(choices.join(' or '))(t);
    return t as C[number];
  });

/** A UTC date ("2026-01-01", midnight) or an RFC 3339 timestamp, as epoch milliseconds. */
export const instant = (placeholder: string, help: string) =>
  new ValueOption(placeholder, help, (t) => {
    const ms = /^\d{4}-\d{2}-\d{2}$/.test(t)
      ? Date.parse(`${t}T00:00:00Z`)
      : /^\d{4}-\d{2}-\d{2}T.+(Z|[+-]\d{2}:\d{2})$/.test(t)
        ? Date.parse(t)
        : NaN;
    if (!Number.isFinite(ms)) throw expect('a date such as "2026-01-01" or a timestamp such as "2026-01-01T12:00:00Z"')(t);
    return ms;
  });

export const envName = (placeholder: string, help: string) =>
  new ValueOption(placeholder, help, (t) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) throw expect('the name of an environment variable')(t);
    return t;
  });

/** One of a fixed set of words, shown in usage as `a|b|c`. */
export const choice = <const T extends string>(values: readonly T[], help: string) =>
  new ValueOption<T>(values.join('|'), help, (t) => {
    if (!(values as readonly string[]).includes(t)) throw expect(`one of ${values.join(', ')}`)(t);
    return t as T;
  });

/** Comma-separated values, blanks dropped. */
export const list = (placeholder: string, help: string) =>
  new ValueOption(placeholder, help, (t) => {
    const items = t
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.length === 0) throw expect('a comma-separated list')(t);
    return items;
  });

/** What a command declares about its arguments (the rest of a command is in commands.ts). */
export interface ArgumentSpec {
  /** the command's words: "stats", "quarantine list" */
  readonly name: string;
  readonly summary: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: OptionTable;
  /** more text for --help, after the option list */
  readonly details?: string;
}

const HELP: FlagOption = { kind: 'flag', help: "print this command's usage", short: 'h' };

export interface Parsed<O extends OptionTable, P extends readonly PositionalSpec[]> {
  readonly options: OptionValues<O>;
  readonly args: PositionalValues<P>;
}

/** Whether the arguments ask for help (`--help` or `-h`), honouring option values and `--`. */
export function asksForHelp(spec: Pick<ArgumentSpec, 'options'>, argv: readonly string[]): boolean {
  return tokensOf(spec, argv).some((t) => t.kind === 'option' && t.name === 'help');
}

function tokensOf(spec: Pick<ArgumentSpec, 'options'>, argv: readonly string[]) {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, o] of Object.entries<AnyOption>({ ...spec.options, help: HELP })) {
    options[name] = { type: o.kind === 'flag' ? 'boolean' : 'string', ...(o.short ? { short: o.short } : {}) };
  }
  // strict: false so that every problem can be reported in this module's words, by option name
  return parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true }).tokens;
}

/** Checks `argv` (the words after the command's name) against the command's table. */
export function parseArguments<O extends OptionTable, P extends readonly PositionalSpec[]>(
  spec: ArgumentSpec & { readonly options: O; readonly positionals: P },
  argv: readonly string[],
): Parsed<O, P> {
  function fail(message: string): never {
    throw new UsageError(`relay ${spec.name}: ${message}\n${synopsisLine(spec)}\n(relay ${spec.name} --help describes every option)`);
  }
  const raw = new Map<string, string | true>();
  const positionals: string[] = [];
  for (const token of tokensOf(spec, argv)) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const option = spec.options[token.name];
    if (!option) fail(`unknown option ${token.rawName}`);
    const name = `--${token.name}`;
    if (raw.has(token.name)) fail(`${name} is given more than once`);
    if (option.kind === 'flag') {
      if (token.value !== undefined) fail(`${name} takes no value`);
      raw.set(token.name, true);
    } else {
      // a value that looks like an option is almost always a forgotten value: say so
      if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
        fail(
          `${name} needs a value: ${name} ${option.placeholder}${token.value === undefined ? '' : ` (to pass one starting with "-", write ${name}=VALUE)`}`,
        );
      }
      raw.set(token.name, token.value as string);
    }
  }

  const values: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    const given = raw.get(name);
    if (option.kind === 'flag') {
      values[name] = given === true;
    } else if (typeof given === 'string') {
      try {
        values[name] = option.parse(given);
      } catch (error) {
        fail(`--${name} ${(error as Error).message}`);
      }
    } else if (option.isRequired) {
      fail(`--${name} ${option.placeholder} is required (${option.help})`);
    } else {
      values[name] = option.fallback?.value;
    }
  }

  const args: Record<string, string | string[] | undefined> = {};
  let next = 0;
  for (const p of spec.positionals) {
    if (p.variadic) {
      const rest = positionals.slice(next);
      if (rest.length === 0 && !p.optional) fail(`name at least one ${p.name}`);
      args[p.name] = rest;
      next = positionals.length;
    } else {
      const value = positionals[next];
      if (value === undefined && !p.optional) fail(`${p.name} is missing`);
      if (value !== undefined && p.choices && !p.choices.includes(value)) fail(`${p.name} must be ${p.choices.join('|')}, got "${value}"`);
      args[p.name] = value;
      if (value !== undefined) next++;
    }
  }
  if (next < positionals.length) fail(`unexpected argument "${positionals[next]}"`);
  return { options: values as OptionValues<O>, args: args as PositionalValues<P> };
}

const placeholderOf = (p: PositionalSpec) => (p.variadic ? `${p.name}…` : p.choices ? p.choices.join('|') : p.name);

/** `relay quarantine list --config PATH [--limit N] [--json]` */
export function synopsis(spec: ArgumentSpec): string {
  const options = Object.entries(spec.options);
  const valued = (name: string, o: AnyOption) => (o.kind === 'flag' ? `--${name}` : `--${name} ${o.placeholder}`);
  const words = [
    `relay ${spec.name}`,
    ...spec.positionals.filter((p) => !p.variadic).map((p) => (p.optional ? `[${placeholderOf(p)}]` : placeholderOf(p))),
    ...options.filter(([, o]) => o.kind === 'value' && o.isRequired).map(([n, o]) => valued(n, o)),
    ...options.filter(([, o]) => o.kind === 'flag' || !o.isRequired).map(([n, o]) => `[${valued(n, o)}]`),
    ...spec.positionals.filter((p) => p.variadic).map((p) => (p.optional ? `[${placeholderOf(p)}]` : placeholderOf(p))),
  ];
  return words.join(' ');
}

const synopsisLine = (spec: ArgumentSpec) => `usage: ${synopsis(spec)}`;

/** The full `--help` text of a command. */
export function usage(spec: ArgumentSpec): string {
  const rows = Object.entries<AnyOption>({ ...spec.options, help: HELP }).map(([name, o]) => {
    const left = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.kind === 'value' ? ` ${o.placeholder}` : ''}`;
    const notes = o.kind === 'value' ? [o.isRequired ? 'required' : undefined, o.fallback ? `default ${o.fallback.text}` : undefined] : [];
    const note = notes.filter(Boolean).join(', ');
    return [left, `${o.help}${note ? ` (${note})` : ''}`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    synopsisLine(spec),
    '',
    spec.summary,
    '',
    'options:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    ...(spec.details ? ['', spec.details] : []),
  ].join('\n');
}
