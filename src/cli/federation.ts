/** `relay federation init`: the node's gossip key, and what to give its peers. */
import { federationKeyFile, type RelayConfig } from '../config/index.ts';
import { FederationIdentityError, initFederationKey, publicKeyFiles } from '../federation/identity.ts';
import { CliError } from './errors.ts';

export async function runFederationInit(config: RelayConfig, json: boolean): Promise<number> {
  const path = federationKeyFile(config);
  let result;
  try {
    result = await initFederationKey(path);
  } catch (cause) {
    if (cause instanceof FederationIdentityError) throw new CliError(cause.message);
    throw cause;
  }
  const files = publicKeyFiles(path);
  if (json) {
    console.log(
      JSON.stringify(
        {
          nodeId: config.node.id,
          keyId: result.keyId,
          publicKeyPem: result.publicKeyPem,
          keyFile: path,
          created: result.created,
          publicKeyFile: files.pem,
          jwkFile: files.jwk,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  console.log(
    result.created
      ? `federation key created: ${path} (owner-only)`
      : `federation key kept: ${path} (a key is never replaced: peers trust it by its public key)`,
  );
  console.log(`key id (thumbprint): ${result.keyId}`);
  console.log(`public key (${files.pem}; also as a JWK in ${files.jwk}):`);
  console.log(result.publicKeyPem.trimEnd());
  console.log('');
  console.log('On every peer, add this node to federation.peers:');
  console.log(`  - id: ${config.node.id}`);
  console.log('    public_key_file: <a copy of the public key file above>');
  return 0;
}
