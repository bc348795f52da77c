// Every connector Payrail can route to. Adding a PSP = one folder under src/connectors/<name>/
// exporting its ConnectorModule from index.ts, and one line in CONNECTOR_MODULES. Every other
// list of connector names (routing, webhooks, soft declines, test-mode merchants) derives from
// this one.
import { adyenModule } from './adyen/index.ts';
import { ConnectorError } from './errors.ts';
import { paytmModule } from './paytm/index.ts';
import { razorpayModule } from './razorpay/index.ts';
import { stripeModule } from './stripe/index.ts';
import type { Connector, ConnectorModule } from './types.ts';

/** In the order a test-mode merchant prefers them (its connectors' priorities). */
const CONNECTOR_MODULES: readonly ConnectorModule[] = [
  // One line per PSP.
  stripeModule,
  razorpayModule,
  paytmModule,
  adyenModule,
];

function byName(modules: readonly ConnectorModule[]): ReadonlyMap<string, ConnectorModule> {
  const map = new Map<string, ConnectorModule>();
  for (const module of modules) {
    if (map.has(module.name)) throw new Error(`two connectors are named '${module.name}'`);
    if (module.connector.name !== module.name || module.webhookParser.connector !== module.name)
      throw new Error(`the module '${module.name}' holds parts named otherwise`);
    map.set(module.name, module);
  }
  return map;
}

const modulesByName = byName(CONNECTOR_MODULES);

/** Every registered module, in registry order. */
export const connectorModules: readonly ConnectorModule[] = CONNECTOR_MODULES;

export const connectorRegistry: ReadonlyMap<string, Connector> = new Map(
  CONNECTOR_MODULES.map((module) => [module.name, module.connector]),
);

/** The module registered under `name`; throws ConnectorError('unknown_connector') otherwise. */
export function getConnectorModule(name: string): ConnectorModule {
  const module = modulesByName.get(name);
  if (module === undefined)
    throw new ConnectorError(
      name,
      'unknown_connector',
      `no connector is registered under this name`,
    );
  return module;
}

/** The connector registered under `name`; throws ConnectorError('unknown_connector') otherwise. */
export function getConnector(name: string): Connector {
  return getConnectorModule(name).connector;
}

export function hasConnector(name: string): boolean {
  return modulesByName.has(name);
}

/** Registered names, sorted. */
export function listConnectorNames(): string[] {
  return [...modulesByName.keys()].sort();
}
