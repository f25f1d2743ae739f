/**
 * A request whose body never arrives is cut by limits.request_timeout_seconds (408); the handler
 * that was reading the body then fails. That is the client's doing, not a server fault: it is
 * logged at info level as an aborted request, never as an unexpected error.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { startNode, type RelayNode } from '../../../src/node.ts';
import { COLLECTIONS, TAXII, basicAuth, testConfigData } from '../../support/node.ts';

let dir: string;
let node: RelayNode;
const logs: Array<{ level: number; msg: string }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-aborted-'));
  const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
  data.limits = { headers_timeout_seconds: 1, request_timeout_seconds: 2 };
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      callback();
    },
  });
  node = await startNode(parseConfig(data), pino({ level: 'info' }, sink));
});
afterAll(async () => {
  await node?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('a body cut by the request timeout is logged as an aborted request, not as an unexpected error', async () => {
  const port = Number(new URL(node.baseUrl).port);
  const ca = readFileSync(node.devCaPath ?? join(dir, 'certs', 'dev-ca.crt'), 'utf8');
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, checkServerIdentity: () => undefined }, () => {
      socket.write(
        [
          `POST /isac/collections/${COLLECTIONS.inbox}/objects/ HTTP/1.1`,
          'Host: localhost',
          `Authorization: ${basicAuth('alice')}`,
          `Content-Type: ${TAXII}`,
          'Content-Length: 5000',
          '',
          '{"objects": [',
        ].join('\r\n'),
      );
    });
    const bound = setTimeout(() => socket.destroy(), 20_000);
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(bound);
      resolve(text);
    });
  });
  expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
  // the handler notices when the aborted body read fails: wait for its log line (bounded)
  for (let i = 0; i < 50 && !logs.some((l) => l.msg.includes('aborted')); i++) await new Promise((r) => setTimeout(r, 100));
  expect(logs.filter((l) => l.msg.includes('aborted')).map((l) => l.level)).toEqual([30]);
  expect(logs.filter((l) => l.level >= 50)).toEqual([]);
});
