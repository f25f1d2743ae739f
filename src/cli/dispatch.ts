/**
 * From the words after `relay` to what to do: print usage (with its exit code), or run one
 * command with its checked options. Pure: nothing is printed or loaded here.
 */
import { asksForHelp, parseArguments, synopsis, usage, UsageError, type Parsed } from './args.ts';
import { COMMANDS, type Command } from './commands.ts';

export type Invocation =
  | { readonly kind: 'usage'; readonly text: string; readonly exitCode: 0 | 2 }
  | { readonly kind: 'run'; readonly command: Command; readonly input: Parsed<Command['options'], Command['positionals']> };

const isHelp = (word: string | undefined) => word === '--help' || word === '-h';

export function dispatch(argv: readonly string[], commands: readonly Command[] = COMMANDS): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: 'usage', text: overview(commands), exitCode: 2 };
  if (isHelp(first)) return { kind: 'usage', text: overview(commands), exitCode: 0 };
  if (first === 'help') {
    // `relay help import`, `relay help quarantine list`, `relay help members`
    if (rest.length === 0) return { kind: 'usage', text: overview(commands), exitCode: 0 };
    const wanted = rest.join(' ');
    const found = commands.find((c) => c.name === wanted);
    if (found) return { kind: 'usage', text: usage(found), exitCode: 0 };
    if (subcommandsOf(commands, wanted).length > 0) return { kind: 'usage', text: groupUsage(commands, wanted), exitCode: 0 };
    throw new UsageError(`unknown command "${wanted}"\n\n${overview(commands)}`);
  }

  // the longest command name that the words start with: "quarantine list" before "quarantine"
  const found = commands
    .filter((c) => {
      const words = c.name.split(' ');
      return words.every((w, i) => argv[i] === w);
    })
    .sort((a, b) => b.name.length - a.name.length)[0];
  if (found) {
    const args = argv.slice(found.name.split(' ').length);
    if (asksForHelp(found, args)) return { kind: 'usage', text: usage(found), exitCode: 0 };
    return { kind: 'run', command: found, input: parseArguments(found, args) };
  }

  const subcommands = subcommandsOf(commands, first);
  if (subcommands.length > 0) {
    if (rest.some(isHelp)) return { kind: 'usage', text: groupUsage(commands, first), exitCode: 0 };
    const [word] = rest;
    const problem =
      word === undefined || word.startsWith('-')
        ? 'name a subcommand'
        : `unknown subcommand "${word}"; expected one of: ${subcommands.join(', ')}`;
    throw new UsageError(`relay ${first}: ${problem}\n\n${groupUsage(commands, first)}`);
  }
  throw new UsageError(`unknown command "${first}"\n\n${overview(commands)}`);
}

/** "members" -> ["list", "hash-secret"] */
function subcommandsOf(commands: readonly Command[], group: string): string[] {
  return commands.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.slice(group.length + 1));
}

const entry = (c: Command) => `  ${synopsis(c).replace(/^relay /, '')}\n      ${c.summary}`;

/** `relay --help`: every command with its synopsis and summary. */
export function overview(commands: readonly Command[] = COMMANDS): string {
  return [
    'usage: relay <command> [options]',
    '',
    'commands:',
    ...commands.map(entry),
    '',
    '"relay <command> --help" describes a command and each of its options.',
    'exit status: 0 done; 1 a check failed (check, probe, import); 2 a usage or configuration error.',
    'environment: RELAY_LISTEN (host:port) and RELAY_DATA_DIR override the config file.',
  ].join('\n');
}

function groupUsage(commands: readonly Command[], group: string): string {
  const members = commands.filter((c) => c.name.startsWith(`${group} `));
  return [
    `usage: relay ${group} <subcommand> [options]`,
    '',
    'subcommands:',
    ...members.map(entry),
    '',
    `"relay ${group} <subcommand> --help" describes a subcommand and each of its options.`,
  ].join('\n');
}
