// A browser's view of the dashboard over HTTP (no JavaScript): a cookie jar, the CSRF token read
// from the pages, and redirects reported rather than followed.
export type PageAnswer = {
  readonly status: number;
  readonly body: string;
  readonly location: string | undefined;
  readonly headers: Headers;
};

export class DashboardClient {
  readonly baseUrl: string;
  readonly cookies = new Map<string, string>();
  csrf: string | undefined;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  #remember(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (pair === undefined || at < 0) continue;
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  #cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    fields?: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<PageAnswer> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      redirect: 'manual',
      headers: {
        ...(this.cookies.size > 0 ? { cookie: this.#cookieHeader() } : {}),
        ...(fields === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        ...headers,
      },
      body: fields === undefined ? undefined : new URLSearchParams(fields).toString(),
    });
    this.#remember(response.headers);
    const body = await response.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
    if (csrf !== undefined) this.csrf = csrf;
    return {
      status: response.status,
      body,
      location: response.headers.get('location') ?? undefined,
      headers: response.headers,
    };
  }

  get(path: string, headers?: Record<string, string>): Promise<PageAnswer> {
    return this.request('GET', path, undefined, headers);
  }

  /** A form POST carrying the CSRF token of the last page read. */
  post(path: string, fields: Record<string, string> = {}): Promise<PageAnswer> {
    return this.request('POST', path, { _csrf: this.csrf ?? '', ...fields });
  }

  /** Signs in through the sign-in form; throws unless it answers with the redirect. */
  async signIn(credentials: { key: string } | { email: string; password: string }): Promise<void> {
    await this.get('/dashboard/sign-in');
    const answer = await this.post('/dashboard/sign-in', credentials);
    if (answer.status !== 303) throw new Error(`sign-in answered ${answer.status}: ${answer.body}`);
    await this.get('/dashboard');
  }
}

export async function signedIn(
  baseUrl: string,
  credentials: { key: string } | { email: string; password: string },
): Promise<DashboardClient> {
  const client = new DashboardClient(baseUrl);
  await client.signIn(credentials);
  return client;
}
