// The headers of every HTML page Payrail serves (dashboard, hosted checkout, 3-D Secure return):
// a strict Content-Security-Policy (scripts and styles from Payrail's own origin only, no inline
// script, no eval, no framing), no caching of pages, and no referrer beyond the origin.

export type PageSecurity = {
  /**
   * Where the page's forms may send the browser besides Payrail itself. Chromium applies
   * form-action to the redirects after a submission too, so a form whose answer redirects to a
   * merchant's site either lists its origin here or answers with a same-origin page first.
   */
  readonly formTargets?: readonly string[];
};

export function contentSecurityPolicy(options: PageSecurity = {}): string {
  const formAction = ["'self'", ...(options.formTargets ?? [])].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Header name → value, for `reply.headers(…)`. */
export function pageHeaders(options: PageSecurity = {}): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': contentSecurityPolicy(options),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}
