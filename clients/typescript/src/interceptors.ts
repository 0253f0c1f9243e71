/**
 * What every call carries: the API key, and for the idempotent reads only, retries on UNAVAILABLE
 * with exponential backoff, so a gateway or catalog restart is invisible to readers and a write is
 * never sent twice by the client. The deadline covers every attempt, as gRPC's own retries do.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Methods safe to send again: they change nothing. */
export const READ_METHODS: ReadonlySet<string> = new Set([
  "games.catalog.v1.CatalogService/GetGame",
  "games.catalog.v1.CatalogService/ListGames",
  "games.catalog.v1.CatalogService/SearchGames",
  "games.catalog.v1.CatalogService/GetImport",
  "games.catalog.v1.CatalogService/ListImports",
  "games.ingestion.v1.IngestionService/GetRun",
  "games.ingestion.v1.IngestionService/ListRuns",
  "games.ingestion.v1.IngestionService/ListFiles",
  "games.ingestion.v1.IngestionService/ListQuarantinedRecords",
]);

/** The same defaults as the Python client's service config. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  initialBackoffMs: 100,
  maxBackoffMs: 2000,
  backoffMultiplier: 2,
};

/** What a retry hook is told before the client waits and sends a read again. */
export interface RetryEvent {
  readonly method: string;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  readonly error: ConnectError;
  readonly delayMs: number;
}

/** Sets `authorization: Bearer <key>` on every call, replacing any the caller set. */
export function authInterceptor(apiKey: string): Interceptor {
  if (/\s/.test(apiKey)) {
    throw new Error("an API key cannot contain whitespace");
  }
  return (next) => (req) => {
    if (apiKey) {
      req.header.set("authorization", `Bearer ${apiKey}`);
    }
    return next(req);
  };
}

/** Retries UNAVAILABLE on READ_METHODS within the call's deadline; anything else fails at once. */
export function retryInterceptor(policy: RetryPolicy, onRetry?: (event: RetryEvent) => void): Interceptor {
  return (next) => async (req) => {
    const method = `${req.service.typeName}/${req.method.name}`;
    if (req.stream || !READ_METHODS.has(method)) {
      return next(req);
    }
    const deadline = deadlineOf(req.header);
    let backoff = policy.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(req);
      } catch (error) {
        if (!(error instanceof ConnectError) || error.code !== Code.Unavailable) throw error;
        if (attempt >= policy.maxAttempts || req.signal.aborted) throw error;
        // Full jitter, as gRPC does: a random wait up to the current backoff.
        const delayMs = Math.random() * backoff;
        backoff = Math.min(backoff * policy.backoffMultiplier, policy.maxBackoffMs);
        if (deadline !== undefined && Date.now() + delayMs >= deadline) throw error;
        onRetry?.({ method, attempt, error, delayMs });
        await sleep(delayMs, req.signal);
        if (deadline !== undefined) {
          // The server is told what is left of the deadline, not the whole of it again.
          req.header.set("grpc-timeout", `${Math.max(1, Math.floor(deadline - Date.now()))}m`);
        }
      }
    }
  };
}

const TIMEOUT_UNITS: Readonly<Record<string, number>> = { H: 3600e3, M: 60e3, S: 1e3, m: 1, u: 1e-3, n: 1e-6 };

/** When the call's deadline passes (epoch ms), from the grpc-timeout header the transport set. */
function deadlineOf(header: Headers): number | undefined {
  const match = /^(\d+)([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
  if (!match) return undefined;
  return Date.now() + Number(match[1]) * (TIMEOUT_UNITS[match[2] ?? ""] ?? 0);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      signal.removeEventListener("abort", aborted);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const aborted = (): void => {
      clearTimeout(timer);
      reject(ConnectError.from(signal.reason, Code.Canceled));
    };
    signal.addEventListener("abort", aborted, { once: true });
  });
}
