// API rate limits (issue 14): per merchant account, per merchant and endpoint, requests in
// flight per merchant, and per client IP on the routes that take no API key. The algorithm is
// rate-limiter-flexible's (a fixed window that opens at a key's first request), kept in Redis
// when one is configured so every Payrail process shares one count, with an in-memory limiter
// per process as insurance while Redis is down or slow. Answers carry the IETF RateLimit
// header fields; a refusal is a 429 with Retry-After (docs/decisions.md).
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from 'rate-limiter-flexible';
import type { RateLimitConfig } from '../config.ts';
import type { RateLimitOverride, StoredRateLimitOverride } from '../merchants/rate-limits.ts';
import type { Logger } from '../observability/logger.ts';
import type { Redis } from '../storage/redis.ts';
import { ApiError } from './errors.ts';

/** The limits one merchant's requests are held to: its overrides over the process defaults. */
export type MerchantLimits = {
  readonly perSecond: number;
  readonly endpointPerSecond: number;
  readonly concurrent: number;
};

export function merchantLimits(
  defaults: RateLimitConfig,
  override: RateLimitOverride,
  livemode: boolean,
): MerchantLimits {
  return {
    perSecond: livemode
      ? (override.livePerSecond ?? defaults.livePerSecond)
      : (override.testPerSecond ?? defaults.testPerSecond),
    endpointPerSecond: override.endpointPerSecond ?? defaults.endpointPerSecond,
    concurrent: override.concurrent ?? defaults.concurrent,
  };
}

/** One limiter's answer, as the RateLimit header fields show it. */
export type Verdict = {
  readonly admitted: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Until the window ends (and, when refused, until a retry can pass). */
  readonly resetMs: number;
  /** The window, in seconds, for RateLimit-Policy. */
  readonly windowSeconds: number;
};

export type Admission = {
  /** The verdict the headers show: the refusing one, else the account's rate. */
  readonly shown: Verdict;
  readonly refusedBy: 'rate' | 'endpoint' | 'concurrency' | undefined;
  /** Gives the in-flight slot back; call once, when the response is done or the client left. */
  readonly release: (() => void) | undefined;
};

type Limiter = Pick<RateLimiterMemory, 'consume' | 'reward'>;

type Store = {
  readonly redis: Redis | undefined;
  readonly keyPrefix: string;
  /** A Redis answer slower than this counts as Redis down: the in-memory limiter decides. */
  readonly redisTimeoutMs: number;
};

/**
 * The limiters of one kind. rate-limiter-flexible fixes `points` per limiter, and overrides give
 * merchants different limits, so there is one limiter per distinct limit; they share the key
 * prefix, so a merchant's count is the same key whichever limit applies to it.
 */
class LimiterFamily {
  static readonly #limitsMax = 1_000;
  readonly #name: string;
  readonly #windowSeconds: number;
  readonly #store: Store;
  readonly #limiters = new Map<number, Limiter>();

  constructor(name: string, windowSeconds: number, store: Store) {
    this.#name = name;
    this.#windowSeconds = windowSeconds;
    this.#store = store;
  }

  get windowSeconds(): number {
    return this.#windowSeconds;
  }

  for(points: number): Limiter {
    const known = this.#limiters.get(points);
    if (known !== undefined) return known;
    // A bound on distinct limits; past it, start over (limiters are cheap, counts are stored).
    if (this.#limiters.size >= LimiterFamily.#limitsMax) this.#limiters.clear();
    const limiter = this.#create(points);
    this.#limiters.set(points, limiter);
    return limiter;
  }

  #create(points: number): Limiter {
    const options = {
      keyPrefix: `${this.#store.keyPrefix}:${this.#name}`,
      points,
      duration: this.#windowSeconds,
    };
    const memory = new RateLimiterMemory(options);
    if (this.#store.redis === undefined) return memory;
    const redis = new RateLimiterRedis({
      ...options,
      storeClient: this.#store.redis,
      useRedisPackage: true,
      // A client that is not connected fails at once (no offline queue): straight to insurance.
      rejectIfRedisNotReady: true,
    });
    return new RLWrapperTimeouts({
      limiter: redis,
      insuranceLimiter: memory,
      timeoutMs: this.#store.redisTimeoutMs,
    });
  }
}

/** How long an in-flight slot a crashed process never gave back can stay taken, at most. */
const concurrencyWindowSeconds = 60;

export type ApiRateLimitsOptions = {
  readonly config: RateLimitConfig;
  readonly redis?: Redis;
  readonly overrides: { get(merchantId: string): Promise<StoredRateLimitOverride> };
  readonly logger: Logger;
};

export class ApiRateLimits {
  readonly #config: RateLimitConfig;
  readonly #overrides: ApiRateLimitsOptions['overrides'];
  readonly #logger: Logger;
  readonly #rate: LimiterFamily;
  readonly #endpoint: LimiterFamily;
  readonly #concurrency: LimiterFamily;
  readonly #ip: LimiterFamily;

  constructor(options: ApiRateLimitsOptions) {
    this.#config = options.config;
    this.#overrides = options.overrides;
    this.#logger = options.logger;
    const store = {
      redis: options.redis,
      keyPrefix: options.config.keyPrefix,
      redisTimeoutMs: options.config.redisTimeoutMs,
    };
    this.#rate = new LimiterFamily('rate', 1, store);
    this.#endpoint = new LimiterFamily('endpoint', 1, store);
    this.#concurrency = new LimiterFamily('concurrent', concurrencyWindowSeconds, store);
    this.#ip = new LimiterFamily('ip', 1, store);
  }

  get enabled(): boolean {
    return this.#config.enabled;
  }

  /**
   * The account's rate, the endpoint's, and a slot in flight, asked at once (one Redis round
   * trip: node-redis sends commands of one tick together); the first refusal in that order
   * answers.
   */
  async admitMerchantRequest(
    merchantId: string,
    livemode: boolean,
    endpoint: string,
  ): Promise<Admission> {
    const { override } = await this.#overrides.get(merchantId);
    const limits = merchantLimits(this.#config, override, livemode);
    const account = `${livemode ? 'live' : 'test'}:${merchantId}`;
    const [rate, perEndpoint, slot] = await Promise.all([
      this.#take(this.#rate, limits.perSecond, account),
      this.#take(this.#endpoint, limits.endpointPerSecond, `${account}:${endpoint}`),
      this.#take(this.#concurrency, limits.concurrent, account),
    ]);
    const refusal: [Verdict, Admission['refusedBy']] | undefined = !rate.admitted
      ? [rate, 'rate']
      : !perEndpoint.admitted
        ? [perEndpoint, 'endpoint']
        : !slot.admitted
          ? [slot, 'concurrency']
          : undefined;
    const inFlight = this.#concurrency.for(limits.concurrent);
    // A refused request counts against no limit: what the others counted is given back (the
    // slot always). Otherwise a client retrying fast could be refused forever, each limit's
    // window kept full by requests another limit refused.
    if (refusal !== undefined) {
      if (rate.admitted) this.#giveBack(this.#rate.for(limits.perSecond), account);
      if (perEndpoint.admitted)
        this.#giveBack(this.#endpoint.for(limits.endpointPerSecond), `${account}:${endpoint}`);
      this.#giveBack(inFlight, account);
      return { shown: refusal[0], refusedBy: refusal[1], release: undefined };
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#giveBack(inFlight, account);
    };
    return { shown: rate, refusedBy: undefined, release };
  }

  /** A request to a route that takes no API key, counted by its client's address. */
  async admitAddress(address: string): Promise<Verdict> {
    return this.#take(this.#ip, this.#config.ipPerSecond, address);
  }

  async #take(family: LimiterFamily, points: number, key: string): Promise<Verdict> {
    const base = { limit: points, windowSeconds: family.windowSeconds };
    try {
      const result = await family.for(points).consume(key);
      return {
        ...base,
        admitted: true,
        remaining: result.remainingPoints,
        resetMs: result.msBeforeNext,
      };
    } catch (error) {
      if (error instanceof RateLimiterRes)
        return { ...base, admitted: false, remaining: 0, resetMs: error.msBeforeNext };
      // Both stores failed (not expected: memory does not): let the request through rather than
      // refuse every merchant because the limiter broke.
      this.#logger.warn({ err: error }, 'rate limiter failed; request admitted');
      return { ...base, admitted: true, remaining: points, resetMs: family.windowSeconds * 1000 };
    }
  }

  #giveBack(limiter: Limiter, key: string): void {
    limiter.reward(key).catch((error: unknown) => {
      this.#logger.warn({ err: error }, 'rate limiter could not free an in-flight slot');
    });
  }
}

function secondsOf(milliseconds: number): number {
  return Math.max(1, Math.ceil(milliseconds / 1000));
}

/**
 * The IETF RateLimit header fields in their widely implemented form (draft 6 of
 * draft-ietf-httpapi-ratelimit-headers): limit, remaining, seconds to reset, and the policy.
 */
export function rateLimitHeaders(verdict: Verdict): Record<string, string> {
  return {
    'ratelimit-limit': String(verdict.limit),
    'ratelimit-remaining': String(verdict.remaining),
    'ratelimit-reset': String(secondsOf(verdict.resetMs)),
    'ratelimit-policy': `${verdict.limit};w=${verdict.windowSeconds}`,
  };
}

const refusalMessages = {
  rate:
    'Too many requests hit the API too quickly. Retry after the time in Retry-After; ' +
    'we recommend an exponential backoff of your requests.',
  endpoint:
    'Too many requests to this endpoint hit the API too quickly. ' +
    'Retry after the time in Retry-After.',
  concurrency:
    'Too many requests are in flight at once for this account. Retry when some have completed.',
  address: 'Too many requests from this address. Retry after the time in Retry-After.',
} as const;

function refuse(verdict: Verdict, reason: keyof typeof refusalMessages): ApiError {
  return new ApiError(
    'rate_limit',
    refusalMessages[reason],
    undefined,
    undefined,
    secondsOf(verdict.resetMs),
  );
}

function show(reply: FastifyReply, verdict: Verdict): void {
  void reply.headers(rateLimitHeaders(verdict));
}

/** The onRequest hook of the merchant routes; runs after authentication (merchantId is known). */
export function merchantRateLimitHook(limits: ApiRateLimits) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!limits.enabled) return;
    // The route pattern, not the URL: one endpoint per route, not per object id (as Stripe).
    const endpoint = `${request.method} ${request.routeOptions.url ?? 'unmatched'}`;
    const admission = await limits.admitMerchantRequest(
      request.merchantId,
      request.livemode,
      endpoint,
    );
    show(reply, admission.shown);
    if (admission.refusedBy !== undefined) throw refuse(admission.shown, admission.refusedBy);
    // 'close' comes once the response is sent or the client went away, whichever is first.
    if (admission.release !== undefined) reply.raw.once('close', admission.release);
  };
}

/**
 * Routes a caller reaches without an API key: limited per client address. Later login-free
 * routes (3-D Secure return, the hosted checkout pages /pay/…) fall under these prefixes
 * without further wiring.
 */
export const loginFreeRoutePrefixes: readonly string[] = [
  '/v1/psp_webhooks/',
  '/v1/three_d_secure/',
  '/pay/',
];

/** An onRequest hook for the whole app: limits the login-free routes by client address. */
export function addressRateLimitHook(limits: ApiRateLimits) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!limits.enabled) return;
    const route = request.routeOptions.url;
    if (route === undefined || !loginFreeRoutePrefixes.some((prefix) => route.startsWith(prefix)))
      return;
    const verdict = await limits.admitAddress(request.ip);
    show(reply, verdict);
    if (!verdict.admitted) throw refuse(verdict, 'address');
  };
}
