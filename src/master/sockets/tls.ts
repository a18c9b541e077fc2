import { openFailure, readRegularFile } from '../../checked-open.js';
import type { Config } from '../../config/registry.js';
import { ErrorCode, TsgunError } from '../../errors.js';
import type { TlsMaterial } from '../../ipc/protocol.js';
import { nodeRequire } from '../../node-require.js';

function readPem(flag: string, path: string): string {
  try {
    // Read on HUP too, by the running master: a FIFO at the path must not stop it.
    return readRegularFile(path);
  } catch (err) {
    throw new TsgunError(ErrorCode.TLS, `${flag}: cannot read ${path}: ${openFailure(err)}`);
  }
}

/** Read and check the TLS files once, in the master: a bad file is a clear error, not a crash loop. */
export function loadTls(
  config: Pick<Config, 'certfile' | 'keyfile' | 'caCerts'>,
): TlsMaterial | null {
  if (!config.certfile && !config.keyfile) {
    if (config.caCerts)
      throw new TsgunError(ErrorCode.TLS, '--ca-certs needs --certfile and --keyfile');
    return null;
  }
  if (!config.certfile || !config.keyfile)
    throw new TsgunError(ErrorCode.TLS, '--certfile and --keyfile go together');
  const material = {
    cert: readPem('--certfile', config.certfile),
    key: readPem('--keyfile', config.keyfile),
    ca: config.caCerts ? readPem('--ca-certs', config.caCerts) : null,
  };
  try {
    // node:tls (and crypto behind it) only with --certfile: most masters never load it.
    (nodeRequire('node:tls') as typeof import('node:tls')).createSecureContext({
      cert: material.cert,
      key: material.key,
      ...(material.ca ? { ca: material.ca } : {}),
    });
  } catch (err) {
    throw new TsgunError(
      ErrorCode.TLS,
      `--certfile/--keyfile: ${(err as Error).message} (${config.certfile}, ${config.keyfile})`,
    );
  }
  return material;
}
