/**
 * The attacker of auth-flood.e2e.test.ts, in a process of its own so that its work does not
 * slow down the test process that measures a member's latency.
 *
 *   node --import tsx auth-flood.attacker.ts BASE_URL CA_FILE MEMBER COUNT CONNECTIONS ADDRESS[,ADDRESS…]
 *
 * Sends COUNT different wrong Basic passwords for MEMBER, over CONNECTIONS connections from each
 * local (loopback) ADDRESS at once; writes "flooding" to stderr when it starts and the answers as
 * JSON to stdout.
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';

export interface FloodAnswer {
  readonly from: string;
  readonly status: number;
  readonly retryAfter: string | null;
  readonly contentType: string | null;
  readonly body: { title?: string; http_status?: string; error_code?: string };
}

const [baseUrl, caFile, member, count, connections, addresses] = process.argv.slice(2) as string[] as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const total = Number(count);
const ca = readFileSync(caFile, 'utf8');
const clients = addresses.split(',').map((from) => ({
  from,
  agent: new Agent({ connect: { ca }, localAddress: from, connections: Number(connections) }),
}));

const answers: FloodAnswer[] = [];
let sent = 0;
async function attack(agent: Agent, from: string): Promise<void> {
  while (sent < total) {
    const i = sent++;
    const authorization = `Basic ${Buffer.from(`${member}:wrong-password-${i}`).toString('base64')}`;
    const res = await fetch(`${baseUrl}/taxii2/`, {
      headers: { accept: 'application/taxii+json;version=2.1', authorization },
      dispatcher: agent,
    });
    answers.push({
      from,
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      contentType: res.headers.get('content-type'),
      body: (await res.json()) as FloodAnswer['body'],
    });
  }
}

process.stderr.write('flooding\n');
await Promise.all(clients.flatMap(({ agent, from }) => Array.from({ length: Number(connections) }, () => attack(agent, from))));
await Promise.all(clients.map(({ agent }) => agent.close()));
process.stdout.write(JSON.stringify(answers));
