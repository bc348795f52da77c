// Every connector Payrail can route to, by name. Adding a PSP = one folder under
// src/connectors/<name>/ and one line in CONNECTORS.
import { ConnectorError } from './errors.ts';
import { paytmConnector } from './paytm/connector.ts';
import { razorpayConnector } from './razorpay/connector.ts';
import { stripeConnector } from './stripe/connector.ts';
import type { Connector } from './types.ts';

const CONNECTORS: readonly Connector[] = [stripeConnector, razorpayConnector, paytmConnector];

function byName(connectors: readonly Connector[]): ReadonlyMap<string, Connector> {
  const map = new Map<string, Connector>();
  for (const connector of connectors) {
    if (map.has(connector.name)) throw new Error(`two connectors are named '${connector.name}'`);
    map.set(connector.name, connector);
  }
  return map;
}

export const connectorRegistry: ReadonlyMap<string, Connector> = byName(CONNECTORS);

/** The connector registered under `name`; throws ConnectorError('unknown_connector') otherwise. */
export function getConnector(name: string): Connector {
  const connector = connectorRegistry.get(name);
  if (connector === undefined)
    throw new ConnectorError(
      name,
      'unknown_connector',
      `no connector is registered under this name`,
    );
  return connector;
}

export function hasConnector(name: string): boolean {
  return connectorRegistry.has(name);
}

/** Registered names, sorted. */
export function listConnectorNames(): string[] {
  return [...connectorRegistry.keys()].sort();
}
