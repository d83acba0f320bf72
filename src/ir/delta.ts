// IR text for a receiver that keeps what it was sent before. Successive
// configs share most routes (the translator hands back the very same object
// for a route that did not change), so a route already held by the receiver
// travels as a number, and the receiver hands its data plane the same route
// object as last time, whose compiled form it can then reuse. A change to one
// route of thousands then costs the receiver a small parse, not a large one.

import type { IRConfig, IRRoute, IRServer, IRVirtualHost } from './types.js';

/** A route in the encoded text: defined with its id, or a reference to one the receiver holds. */
type EncodedRoute = { id: number; route: IRRoute } | { ref: number };

interface EncodedVirtualHost extends Omit<IRVirtualHost, 'routes'> {
  routes: EncodedRoute[];
}

interface EncodedServer extends Omit<IRServer, 'virtualHosts'> {
  virtualHosts: EncodedVirtualHost[];
}

interface EncodedConfig extends Omit<IRConfig, 'servers'> {
  servers: EncodedServer[];
}

export class IREncoder {
  private readonly ids = new WeakMap<IRRoute, number>();
  private nextId = 1;
  /** Route ids of the last config encoded: what every receiver that decoded it holds. */
  private held = new Set<number>();

  /**
   * Encodes `config` for receivers that decoded the previous encoding, or,
   * with `full`, for a receiver that holds nothing. Either way a receiver
   * holds exactly this config's routes afterwards, so both kinds of text for
   * one config may go to different receivers.
   */
  encode(config: IRConfig, { full = false }: { full?: boolean } = {}): string {
    const next = new Set<number>();
    const servers = config.servers.map((s): EncodedServer => ({
      ...s,
      virtualHosts: s.virtualHosts.map((vh) => ({
        ...vh,
        routes: vh.routes.map((route): EncodedRoute => {
          let id = this.ids.get(route);
          if (id === undefined) {
            id = this.nextId++;
            this.ids.set(route, id);
          }
          const known = !full && (this.held.has(id) || next.has(id));
          next.add(id);
          return known ? { ref: id } : { id, route };
        }),
      })),
    }));
    this.held = next;
    const encoded: EncodedConfig = { ...config, servers };
    return JSON.stringify(encoded);
  }
}

export class IRDecoder {
  private routes = new Map<number, IRRoute>();

  /** Throws when the text refers to a route this decoder does not hold (it missed an encoding). */
  decode(text: string): IRConfig {
    const encoded = JSON.parse(text) as EncodedConfig;
    const kept = new Map<number, IRRoute>();
    const resolve = (e: EncodedRoute): IRRoute => {
      if ('ref' in e) {
        const route = kept.get(e.ref) ?? this.routes.get(e.ref);
        if (route === undefined) throw new Error(`IR refers to route ${e.ref}, which this receiver does not hold`);
        kept.set(e.ref, route);
        return route;
      }
      kept.set(e.id, e.route);
      return e.route;
    };
    const servers = encoded.servers.map((s): IRServer => ({
      ...s,
      virtualHosts: s.virtualHosts.map((vh) => ({ ...vh, routes: vh.routes.map(resolve) })),
    }));
    this.routes = kept;
    return { ...encoded, servers };
  }
}
