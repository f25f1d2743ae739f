/**
 * What a certificate is for: `server` a TLS server (the node's HTTPS; serverAuth), `member` a
 * member's client certificate (clientAuth), `node` a relay node's NATS client certificate (both
 * usages), `nats` a NATS server of the federation: it serves the nodes and, on the routes
 * between the servers, is also the client, so it carries both usages and its names as SANs.
 * (No imports: the CLI's command table reads this list without loading the PKI.)
 */
export const CERTIFICATE_KINDS = ['server', 'member', 'node', 'nats'] as const;

export type CertificateKind = (typeof CERTIFICATE_KINDS)[number];
