// Test and live mode (docs/decisions.md): a merchant is one or the other for its whole life, and
// its keys say which. Stripe's keys carry their mode in the prefix; so do ours.

/** The secret key prefix of a mode. */
export function secretKeyPrefix(livemode: boolean): 'sk_live_' | 'sk_test_' {
  return livemode ? 'sk_live_' : 'sk_test_';
}

/** The mode a secret key's prefix names, or undefined for a string that is no secret key. */
export function modeOfSecretKey(secretKey: string): { livemode: boolean } | undefined {
  const named = modeOfKey(secretKey);
  return named?.kind === 'secret' ? { livemode: named.livemode } : undefined;
}

/** A secret key (`sk_`) acts on everything of its merchant; a publishable key (`pk_`) on almost nothing. */
export type KeyKind = 'secret' | 'publishable';

/** The publishable key prefix of a mode. */
export function publishableKeyPrefix(livemode: boolean): 'pk_live_' | 'pk_test_' {
  return livemode ? 'pk_live_' : 'pk_test_';
}

export function keyPrefix(kind: KeyKind, livemode: boolean): string {
  return kind === 'secret' ? secretKeyPrefix(livemode) : publishableKeyPrefix(livemode);
}

/** The kind and mode a key's prefix names, or undefined for a string that is no API key. */
export function modeOfKey(key: string): { kind: KeyKind; livemode: boolean } | undefined {
  for (const kind of ['secret', 'publishable'] as const)
    for (const livemode of [true, false])
      if (key.startsWith(keyPrefix(kind, livemode))) return { kind, livemode };
  return undefined;
}

function stamped(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const object = value as Record<string, unknown>;
  if (typeof object.livemode !== 'boolean') return value;
  return { ...object, livemode: true };
}

/**
 * An API answer as a live-mode key sees it: `livemode: true` on the object, on each object of a
 * list, on an event's object, and on the payment intent of an error. Every object a merchant sees
 * is its own, so it has the merchant's mode; the presenters write `false` and this is the one
 * place that says otherwise. Only those levels are looked at (no walk over the payload).
 */
export function withLivemode(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return payload;
  const object = payload as Record<string, unknown>;
  if (typeof object.error === 'object' && object.error !== null) {
    const error = object.error as Record<string, unknown>;
    if (error.payment_intent === undefined) return payload;
    return { ...object, error: { ...error, payment_intent: stamped(error.payment_intent) } };
  }
  if (object.object === 'list' && Array.isArray(object.data))
    return { ...object, data: object.data.map(eventOrObject) };
  return eventOrObject(object);
}

function eventOrObject(value: unknown): unknown {
  const top = stamped(value);
  if (typeof top !== 'object' || top === null) return top;
  const object = top as Record<string, unknown>;
  if (object.object !== 'event' || typeof object.data !== 'object' || object.data === null)
    return top;
  const data = object.data as Record<string, unknown>;
  return { ...object, data: { ...data, object: stamped(data.object) } };
}
