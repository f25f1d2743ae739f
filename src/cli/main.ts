#!/usr/bin/env node
/**
 * The `relay` command line. Each subcommand is a small function over the same parts node.ts
 * uses (the table is in commands.ts); output for people goes to stdout, progress and errors to
 * stderr. Exit status: 0 done, 1 a check failed, 2 a usage or configuration error.
 */
import { ConfigError } from '../config/index.ts';
import { dispatch } from './dispatch.ts';
import { CliError } from './errors.ts';

/** The status of a process ended by SIGPIPE (128 + 13), as the shell reports `yes | head`. */
const EXIT_BROKEN_PIPE = 141;

// When the reader of our output goes away (`relay check | head`), the output is no longer wanted:
// stop at once and quietly, as a command killed by SIGPIPE would (Node ignores that signal, so a
// write fails with EPIPE instead, which would otherwise end the process with a stack trace).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT_BROKEN_PIPE);
    throw error;
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const invocation = dispatch(argv);
  if (invocation.kind === 'usage') {
    console.log(invocation.text);
    return invocation.exitCode;
  }
  return invocation.command.run(invocation.input);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Operator errors are printed without a stack: they name the option, key or file and the fix.
    if (error instanceof ConfigError || error instanceof CliError) console.error(error.message);
    else console.error(`relay: ${(error as Error)?.message ?? String(error)}`);
    process.exitCode = 2;
  },
);
