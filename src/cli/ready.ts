/**
 * `relay ready`: asks the node this config describes for /readyz and exits 0 only when it is
 * ready. The container image's health check runs it, so it finds the port in the config rather
 * than assuming one.
 */
import { request } from 'node:https';
import type { RelayConfig } from '../config/index.ts';

/** The loopback URL of the node's /readyz: a wildcard listen address is reached on loopback. */
export function readyUrl(listen: string): string {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon);
  const port = listen.slice(colon + 1);
  const local = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `https://${local}:${port}/readyz`;
}

export async function runReady(config: RelayConfig, options: { url?: string | undefined; timeoutMs: number }): Promise<number> {
  const url = options.url ?? readyUrl(config.listen);
  try {
    const { status, body } = await get(url, options.timeoutMs);
    process.stdout.write(`${status} ${body.trim()}\n`);
    return status === 200 ? 0 : 1;
  } catch (error) {
    process.stderr.write(`not ready: ${url}: ${(error as Error).message}\n`);
    return 1;
  }
}

function get(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // No credentials are sent and nothing but the status is trusted: the certificate is not
    // checked (it may be a development one, or name a public host rather than loopback).
    const req = request(url, { rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk.slice(0, 4096)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
