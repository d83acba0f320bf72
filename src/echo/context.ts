/** Who the echo says it is: upstream's pod context, filled from the Downward API env vars when no option names it. */
export interface PodIdentity {
  namespace?: string;
  service?: string;
  pod?: string;
}

export interface PodContext {
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
}

export function podContext(opts: PodIdentity): PodContext {
  return {
    namespace: opts.namespace ?? process.env.NAMESPACE ?? '',
    ingress: process.env.INGRESS_NAME ?? '',
    service: opts.service ?? process.env.SERVICE_NAME ?? '',
    pod: opts.pod ?? process.env.POD_NAME ?? '',
  };
}
