/**
 * The command table and its parser, in process: what each argument list means (usage text, a
 * usage error naming the option, or typed values). The process-level behaviour (exit codes,
 * what reaches stdout and stderr) is in usage.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { duration, flag, parseArguments, positiveInteger, text, usage, UsageError, type ArgumentSpec } from '../../src/cli/args.ts';
import { COMMANDS } from '../../src/cli/commands.ts';
import { dispatch } from '../../src/cli/dispatch.ts';

const usageError = (argv: string[]): string => {
  try {
    dispatch(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`relay ${argv.join(' ')} was accepted`);
};

const run = (argv: string[]) => {
  const invocation = dispatch(argv);
  if (invocation.kind !== 'run') throw new Error(`relay ${argv.join(' ')} printed usage`);
  return invocation;
};

describe('every command has its own option table and usage', () => {
  it('--help and -h print the usage of exactly that command, whatever else is on the line', () => {
    // every command of README's table, and those of the usage text before the table existed
    const documented = ['start', 'import', 'members list', 'members hash-secret', 'token issue', 'token rotate', 'token revoke'];
    documented.push('token jwks', 'stats', 'check', 'certs init', 'certs issue', 'certs revoke', 'certs list', 'probe', 'upstreams');
    documented.push('quarantine list', 'quarantine show', 'policy explain');
    expect(COMMANDS.map((c) => c.name)).toEqual(expect.arrayContaining(documented));
    for (const c of COMMANDS) {
      const words = c.name.split(' ');
      for (const argv of [
        [...words, '--help'],
        [...words, '-h'],
        [...words, '--config', 'x.yaml', '--frob', '--help'],
        ['help', ...words],
      ]) {
        const invocation = dispatch(argv);
        expect(invocation, argv.join(' ')).toMatchObject({ kind: 'usage', exitCode: 0 });
        const text = (invocation as { text: string }).text;
        expect(text.split('\n')[0], argv.join(' ')).toMatch(new RegExp(`^usage: relay ${c.name}( |$)`));
        expect(text).toContain(c.summary);
        for (const name of Object.keys(c.options)) expect(text, `${c.name} --${name}`).toContain(`--${name}`);
      }
    }
  });

  it('names are unique and no command is a prefix group of itself', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names)
      expect(
        names.some((m) => m.startsWith(`${n} `)),
        n,
      ).toBe(false);
  });

  it('a group without a subcommand lists its subcommands; --help on it is not an error', () => {
    expect(usageError(['quarantine'])).toMatch(/^relay quarantine: name a subcommand\n\nusage: relay quarantine <subcommand>/);
    expect(usageError(['quarantine', 'purge'])).toMatch(/unknown subcommand "purge"; expected one of: list, show/);
    const help = dispatch(['token', '--help']);
    expect(help).toMatchObject({ kind: 'usage', exitCode: 0 });
    expect((help as { text: string }).text).toMatch(/token issue MEMBER --config PATH \[--ttl DURATION\][\s\S]*token jwks --config PATH/);
  });

  it('no command prints the overview with exit 2; --help with exit 0; an unknown command is a usage error', () => {
    expect(dispatch([])).toMatchObject({ kind: 'usage', exitCode: 2 });
    expect(dispatch(['--help'])).toMatchObject({ kind: 'usage', exitCode: 0 });
    expect(usageError(['frobnicate'])).toMatch(/^unknown command "frobnicate"\n\nusage: relay <command>/);
  });
});

describe('values are checked by the option table', () => {
  it('quarantine list --limit takes a positive integer, default 50', () => {
    for (const bad of ['abc', '0', '-1', '1.5', '1e3', '']) {
      expect(usageError(['quarantine', 'list', '--config', 'r.yaml', `--limit=${bad}`])).toMatch(
        /^relay quarantine list: --limit expects a positive integer, got ".*"\nusage: relay quarantine list --config PATH \[--limit N\] \[--json\]/,
      );
    }
    expect(run(['quarantine', 'list', '--config', 'r.yaml', '--limit', '7']).input.options).toEqual({
      config: 'r.yaml',
      limit: 7,
      json: false,
    });
    expect(run(['quarantine', 'list', '-c', 'r.yaml', '--json']).input.options).toEqual({ config: 'r.yaml', limit: 50, json: true });
  });

  it('other numbers and durations', () => {
    expect(usageError(['import', '--config', 'r', '--collection', 'c', '--batch-size', 'ten', 'f.json'])).toMatch(
      /--batch-size expects a positive integer, got "ten"/,
    );
    expect(usageError(['certs', 'issue', 'server', 'x', '--config', 'r', '--days', '0'])).toMatch(
      /--days expects a positive integer, got "0"/,
    );
    expect(usageError(['token', 'issue', 'alice', '--config', 'r', '--ttl', '12'])).toMatch(
      /--ttl expects a duration such as "30s", "12h" or "7d" \(units: s, m, h, d\), got "12"/,
    );
    expect(usageError(['token', 'issue', 'alice', '--config', 'r', '--ttl', '250ms'])).toMatch(/--ttl expects a duration/);
    expect(run(['token', 'issue', 'alice', '--config', 'r', '--ttl', '90m']).input.options.ttl).toBe(90 * 60_000);
    expect(run(['probe', 'https://hub.example/taxii2/']).input.options.timeout).toBe(30_000);
    expect(run(['probe', 'https://hub.example/taxii2/', '--timeout', '250ms']).input.options.timeout).toBe(250);
    expect(usageError(['probe', 'https://hub.example/taxii2/', '--password-env', 'MY-PASS'])).toMatch(
      /--password-env expects the name of an environment variable, got "MY-PASS"/,
    );
    expect(run(['certs', 'issue', 'server', 'x', '--config', 'r', '--san', 'a.example, 10.0.0.1,']).input.options.san).toEqual([
      'a.example',
      '10.0.0.1',
    ]);
  });

  it('unknown options, missing values, repeated options and flags with values name the option', () => {
    expect(usageError(['stats', '--config', 'r', '--frob'])).toMatch(
      /^relay stats: unknown option --frob\nusage: relay stats --config PATH \[--json\]/,
    );
    expect(usageError(['stats', '--config', 'r', '-x'])).toMatch(/^relay stats: unknown option -x\n/);
    // options of another command are unknown here
    expect(usageError(['stats', '--config', 'r', '--limit', '5'])).toMatch(/unknown option --limit/);
    expect(usageError(['stats', '--config'])).toMatch(/--config needs a value: --config PATH/);
    expect(usageError(['stats', '--config', '--json'])).toMatch(
      /--config needs a value: --config PATH \(to pass one starting with "-", write --config=VALUE\)/,
    );
    expect(run(['stats', '--config=-odd.yaml']).input.options.config).toBe('-odd.yaml');
    expect(usageError(['stats', '--config', 'a', '--config', 'b'])).toMatch(/--config is given more than once/);
    expect(usageError(['stats', '--config', 'r', '--json=yes'])).toMatch(/--json takes no value/);
  });

  it('required options and positional arguments', () => {
    expect(usageError(['stats'])).toMatch(/^relay stats: --config PATH is required \(the node's configuration file \(YAML\)\)/);
    expect(usageError(['policy', 'explain', '--config', 'r', '--object', 'x'])).toMatch(/--member M is required/);
    expect(usageError(['import', '--config', 'r', '--collection', 'c'])).toMatch(/name at least one FILE/);
    expect(usageError(['token', 'issue', '--config', 'r'])).toMatch(/^relay token issue: MEMBER is missing/);
    expect(usageError(['stats', '--config', 'r', 'extra'])).toMatch(/unexpected argument "extra"/);
    expect(usageError(['certs', 'issue', 'printer', 'x', '--config', 'r'])).toMatch(
      /KIND must be server\|member\|node\|nats, got "printer"/,
    );
    const imp = run(['import', '--config', 'r', '--collection', 'shared', 'a.json', '--json', 'b.json', '--', '--c.json']);
    expect(imp.input.args).toEqual({ FILE: ['a.json', 'b.json', '--c.json'] });
    expect(imp.input.options).toEqual({ config: 'r', collection: 'shared', 'batch-size': undefined, json: true });
  });
});

describe('the parser on its own (how a new command declares options)', () => {
  const spec = {
    name: 'demo run',
    summary: 'a demonstration',
    positionals: [{ name: 'TARGET' }, { name: 'MORE', optional: true }],
    options: {
      count: positiveInteger('N', 'how many').orElse(3),
      wait: duration('DURATION', 'how long'),
      name: text('NAME', 'who').alias('n').required(),
      verbose: flag('say more', 'v'),
    },
  } as const satisfies ArgumentSpec;

  it('returns typed values with defaults', () => {
    const parsed = parseArguments(spec, ['t', '-n', 'x', '--wait', '2m', '-v']);
    expect(parsed).toEqual({ options: { count: 3, wait: 120_000, name: 'x', verbose: true }, args: { TARGET: 't', MORE: undefined } });
  });

  it('prints a usage with each option, its default and whether it is required', () => {
    expect(usage(spec)).toBe(
      [
        'usage: relay demo run TARGET [MORE] --name NAME [--count N] [--wait DURATION] [--verbose]',
        '',
        'a demonstration',
        '',
        'options:',
        '      --count N        how many (default 3)',
        '      --wait DURATION  how long',
        '  -n, --name NAME      who (required)',
        '  -v, --verbose        say more',
        "  -h, --help           print this command's usage",
      ].join('\n'),
    );
  });
});
