import { hint } from './suggest.js';

/**
 * `TSGUN_*` variables that name no setting. They are not fatal: the environment of a process is
 * not all ours. Kubernetes puts "service link" variables for every Service of the namespace into
 * every pod, so a Service named `tsgun` (or `tsgun-*`) gives each pod TSGUN_SERVICE_HOST,
 * TSGUN_SERVICE_PORT(_NAME), TSGUN_PORT=tcp://10.0.0.1:8000 and TSGUN_PORT_8000_TCP(_ADDR,
 * _PORT, _PROTO). Those are recognised by their shape and reported as one line; any other
 * unknown name gets one line with its did-you-mean hint (a typo stays visible).
 */

/** The names Kubernetes (and Docker links before it) derive from a service's name. */
const SERVICE_LINK =
  /^(.+?)_(?:SERVICE_HOST|SERVICE_PORT(?:_[A-Z0-9_]+)?|PORT|PORT_\d+_(?:TCP|UDP|SCTP)(?:_ADDR|_PORT|_PROTO)?)$/;

/** The service a service-link variable is for (`TSGUN_API` for TSGUN_API_SERVICE_HOST), or null. */
export function serviceLinkOf(name: string): string | null {
  return SERVICE_LINK.exec(name)?.[1] ?? null;
}

/** One warning line per unknown variable, the service-link ones folded into one line per service. */
export function foreignEnvWarnings(unknown: readonly string[], known: readonly string[]): string[] {
  const services = new Map<string, string[]>();
  const lines: string[] = [];
  for (const name of unknown) {
    const service = serviceLinkOf(name);
    if (service !== null) {
      services.set(service, [...(services.get(service) ?? []), name]);
      continue;
    }
    lines.push(`ignoring unknown environment variable ${name}${hint(name, known)}`);
  }
  for (const [service, names] of services) {
    const k8sName = service.toLowerCase().replace(/_/g, '-');
    lines.push(
      `ignoring ${names.join(', ')}: Kubernetes service-link variables of a Service named ${k8sName}, not tsgun settings (enableServiceLinks: false in the pod spec drops them)`,
    );
  }
  return lines;
}
