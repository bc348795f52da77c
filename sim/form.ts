// application/x-www-form-urlencoded with bracket notation, as Stripe's API takes it:
// a=1&b[c]=2&b[d][e]=3&f[]=4&f[]=5 → {a:'1', b:{c:'2', d:{e:'3'}}, f:['4','5']}.
// Bounded (pairs, depth, key length) and immune to prototype pollution (null-prototype objects).

export type FormValue = string | FormObject | FormValue[];
export type FormObject = { [key: string]: FormValue };

export const FORM_PAIRS_MAX = 512;
export const FORM_DEPTH_MAX = 6;
const KEY_LENGTH_MAX = 200;

export class FormError extends Error {}

export function parseForm(text: string): FormObject {
  const root: FormObject = Object.create(null) as FormObject;
  if (text.length === 0) return root;
  const pairs = text.split('&');
  if (pairs.length > FORM_PAIRS_MAX)
    throw new FormError(`at most ${FORM_PAIRS_MAX} parameters are accepted`);
  for (const pair of pairs) {
    if (pair.length === 0) continue;
    const equals = pair.indexOf('=');
    const name = decode(equals < 0 ? pair : pair.slice(0, equals));
    const value = equals < 0 ? '' : decode(pair.slice(equals + 1));
    assign(root, keyPath(name), value, name);
  }
  return root;
}

/** A canonical text of a form body (pairs sorted), for comparing two requests' parameters. */
export function formFingerprint(text: string): string {
  return text
    .split('&')
    .filter((pair) => pair.length > 0)
    .sort()
    .join('&');
}

function decode(component: string): string {
  const plusFree = component.includes('+') ? component.replaceAll('+', ' ') : component;
  if (!plusFree.includes('%')) return plusFree;
  try {
    return decodeURIComponent(plusFree);
  } catch {
    throw new FormError(`malformed percent-encoding in "${component.slice(0, 50)}"`);
  }
}

/** "a[b][]" → ['a', 'b', '']; '' stands for "append to an array". */
function keyPath(name: string): string[] {
  if (name.length === 0 || name.length > KEY_LENGTH_MAX)
    throw new FormError('parameter names must be 1–200 characters');
  const open = name.indexOf('[');
  if (open < 0) return [name];
  if (open === 0 || !name.endsWith(']')) throw new FormError(`malformed parameter name "${name}"`);
  const path = [name.slice(0, open)];
  const inner = name.slice(open + 1, -1).split('][');
  for (const part of inner) {
    if (part.includes('[') || part.includes(']'))
      throw new FormError(`malformed parameter name "${name}"`);
    path.push(part);
  }
  if (path.length > FORM_DEPTH_MAX) throw new FormError(`parameter "${name}" is nested too deeply`);
  return path;
}

function assign(root: FormObject, path: readonly string[], value: string, name: string): void {
  let container: FormObject | FormValue[] = root;
  for (let index = 0; index < path.length; index += 1) {
    const key = path[index] ?? '';
    const last = index === path.length - 1;
    const nextIsAppend = !last && path[index + 1] === '';
    if (Array.isArray(container)) {
      if (key !== '') throw new FormError(`parameter "${name}" mixes a list and an object`);
      if (last) {
        container.push(value);
        return;
      }
      const child: FormObject | FormValue[] = nextIsAppend
        ? []
        : (Object.create(null) as FormObject);
      container.push(child);
      container = child;
      continue;
    }
    if (key === '') throw new FormError(`malformed parameter name "${name}"`);
    if (last) {
      if (typeof container[key] === 'object')
        throw new FormError(`parameter "${name}" is both a value and an object`);
      container[key] = value;
      return;
    }
    const existing: FormValue | undefined = container[key];
    if (existing === undefined) {
      const child: FormObject | FormValue[] = nextIsAppend
        ? []
        : (Object.create(null) as FormObject);
      container[key] = child;
      container = child;
    } else if (typeof existing === 'string' || Array.isArray(existing) !== nextIsAppend) {
      throw new FormError(`parameter "${name}" conflicts with another parameter`);
    } else {
      container = existing;
    }
  }
}
