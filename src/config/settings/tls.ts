/** The settings of the TLS section: the certificate, its key and the CA chain. */
import { nullable, string } from '../parsers.js';
import { setting } from '../spec.js';

export const TLS_SETTINGS = {
  certfile: setting({
    section: 'TLS',
    flags: ['--certfile'],
    arg: 'FILE',
    default: null,
    parse: nullable(string),
    help: 'PEM certificate (chain): workers serve HTTPS. HUP reloads it; a bad file keeps the old one.',
    hup: true,
  }),
  keyfile: setting({
    section: 'TLS',
    flags: ['--keyfile'],
    arg: 'FILE',
    default: null,
    parse: nullable(string),
    help: 'PEM private key for --certfile.',
    hup: true,
  }),
  caCerts: setting({
    section: 'TLS',
    flags: ['--ca-certs'],
    arg: 'FILE',
    default: null,
    parse: nullable(string),
    help: 'PEM CA (intermediate) certificates the server presents with its certificate.',
    hup: true,
  }),
};
