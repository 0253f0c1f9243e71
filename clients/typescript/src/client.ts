/**
 * GamesClient: the catalog and ingestion services on one HTTP/2 connection to the gateway (TLS with
 * the platform CA and a client certificate), every call with the key and a default deadline, reads
 * retried on UNAVAILABLE, failures thrown as GamesError, and async iterators over pages.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

import type { DescService, MessageInitShape } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";

import { GamesError } from "./errors.js";
import {
  CatalogService,
  Platform,
  type Game,
  type GameSchema,
  type Import,
} from "./gen/games/catalog/v1/catalog_pb.js";
import {
  IngestionService,
  type File,
  type QuarantinedRecord,
  type Run,
} from "./gen/games/ingestion/v1/ingestion_pb.js";
import { authInterceptor, DEFAULT_RETRY, retryInterceptor, type RetryEvent, type RetryPolicy } from "./interceptors.js";
import { DEFAULT_SUITE, loadSuite, SuiteError } from "./suite.js";

export const DEFAULT_DEADLINE_MS = 5000;
export const DEFAULT_PAGE_SIZE = 100;

export interface ConnectOptions {
  /** The gateway, host:port. */
  readonly target: string;
  readonly apiKey: string;
  /** PEM file of the CA the gateway's certificate comes from. */
  readonly caFile: string;
  /** PEM client certificate and key; the gateway requires one from the platform CA. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Deadline of a call that sets no timeoutMs of its own; 0 for none. */
  readonly deadlineMs?: number;
  /** The name the gateway's certificate must carry, when it is not the target's host. */
  readonly serverName?: string;
  readonly retry?: Partial<RetryPolicy>;
  /** Called before each retry of a read, for logs and metrics. */
  readonly onRetry?: (event: RetryEvent) => void;
}

export type PlatformLike = Platform | "ios" | "android" | undefined;

export interface PageOptions {
  readonly platform?: PlatformLike;
  readonly pageSize?: number;
}

/** Every item of a paged list: `fetch(pageToken)` page by page until no next token. */
export async function* paginate<P extends { nextPageToken: string }, T>(
  fetch: (pageToken: string) => Promise<P>,
  items: (page: P) => readonly T[],
): AsyncGenerator<T, void, undefined> {
  let token = "";
  do {
    const page = await fetch(token);
    yield* items(page);
    token = page.nextPageToken;
  } while (token);
}

function platformValue(platform: PlatformLike): Platform {
  if (platform === undefined) return Platform.UNSPECIFIED;
  if (platform === "ios") return Platform.IOS;
  if (platform === "android") return Platform.ANDROID;
  return platform;
}

/** The generated client with every failure rethrown as a GamesError. */
function withGamesErrors<S extends DescService>(client: Client<S>): Client<S> {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(client as Record<string, (...args: unknown[]) => unknown>)) {
    wrapped[name] = (...args: unknown[]): unknown => {
      const result = method(...args);
      return result instanceof Promise
        ? result.catch((error: unknown) => Promise.reject(GamesError.from(error)))
        : rethrowing(result as AsyncIterable<unknown>);
    };
  }
  return wrapped as Client<S>;
}

async function* rethrowing<T>(stream: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  try {
    yield* stream;
  } catch (error) {
    throw GamesError.from(error);
  }
}

/** Games: one by name, pages of a search or of the whole catalog, and creation. */
export class Games {
  constructor(private readonly catalog: Client<typeof CatalogService>) {}

  async getGame(name: string): Promise<Game> {
    const { game } = await this.catalog.getGame({ name });
    if (game === undefined) throw new Error(`GetGame answered no game for ${name}`);
    return game;
  }

  /** Games whose name matches `query` (partial, case- and accent-insensitive), in tiers. */
  searchGames(query: string, options: PageOptions = {}): AsyncGenerator<Game, void, undefined> {
    const platform = platformValue(options.platform);
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    return paginate(
      (pageToken) => this.catalog.searchGames({ query, platform, pageSize, pageToken }),
      (page) => page.games,
    );
  }

  /** Every game, in a stable order. */
  listGames(options: PageOptions = {}): AsyncGenerator<Game, void, undefined> {
    const platform = platformValue(options.platform);
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    return paginate(
      (pageToken) => this.catalog.listGames({ platform, pageSize, pageToken }),
      (page) => page.games,
    );
  }

  /** Creates a game; sending the same `requestId` again returns the same game (AIP-155). */
  async createGame(game: MessageInitShape<typeof GameSchema>, requestId: string = randomUUID()): Promise<Game> {
    const created = (await this.catalog.createGame({ game, requestId })).game;
    if (created === undefined) throw new Error("CreateGame answered no game");
    return created;
  }
}

export class GamesClient {
  /** Every CatalogService method, generated; failures are GamesError. */
  readonly catalog: Client<typeof CatalogService>;
  /** Every IngestionService method, generated; failures are GamesError. */
  readonly ingestion: Client<typeof IngestionService>;
  readonly games: Games;

  constructor(
    catalog: Client<typeof CatalogService>,
    ingestion: Client<typeof IngestionService>,
    private readonly sessions: Http2SessionManager,
  ) {
    this.catalog = catalog;
    this.ingestion = ingestion;
    this.games = new Games(catalog);
  }

  /** Every catalog import, newest first. */
  listImports(pageSize = DEFAULT_PAGE_SIZE): AsyncGenerator<Import, void, undefined> {
    return paginate((pageToken) => this.catalog.listImports({ pageSize, pageToken }), (page) => page.imports);
  }

  /** Every ingestion run, newest first. */
  listRuns(pageSize = DEFAULT_PAGE_SIZE): AsyncGenerator<Run, void, undefined> {
    return paginate((pageToken) => this.ingestion.listRuns({ pageSize, pageToken }), (page) => page.runs);
  }

  /** Every file ingestion has seen. */
  listFiles(pageSize = DEFAULT_PAGE_SIZE): AsyncGenerator<File, void, undefined> {
    return paginate((pageToken) => this.ingestion.listFiles({ pageSize, pageToken }), (page) => page.files);
  }

  /** Quarantined records with their reasons, of one file (`files/{id}`) or of every file. */
  listQuarantinedRecords(file = "", pageSize = DEFAULT_PAGE_SIZE): AsyncGenerator<QuarantinedRecord, void, undefined> {
    return paginate(
      (pageToken) => this.ingestion.listQuarantinedRecords({ file, pageSize, pageToken }),
      (page) => page.records,
    );
  }

  /** Closes the connection; calls in progress fail. */
  close(): void {
    this.sessions.abort();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read the ${what} file: ${String(error)}`);
  }
}

/** A client for the gateway at `target`, calling with `apiKey`. */
export function connect(options: ConnectOptions): GamesClient {
  if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
    throw new Error("give both a client certificate and its key, or neither");
  }
  const baseUrl = `https://${options.target}`;
  const tls = {
    ca: readPem(options.caFile, "CA"),
    ...(options.certFile !== undefined && { cert: readPem(options.certFile, "client certificate") }),
    ...(options.keyFile !== undefined && { key: readPem(options.keyFile, "client key") }),
    ...(options.serverName !== undefined && { servername: options.serverName }),
  };
  const sessions = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: 60_000 }, tls);
  // 0 means no deadline: the transport takes `undefined` for that (0 would expire every call at once).
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const transport = createGrpcTransport({
    baseUrl,
    sessionManager: sessions,
    ...(deadlineMs > 0 && { defaultTimeoutMs: deadlineMs }),
    // Applied last to first: the key is set once, outside the retries.
    interceptors: [
      authInterceptor(options.apiKey),
      retryInterceptor({ ...DEFAULT_RETRY, ...options.retry }, options.onRetry),
    ],
  });
  return new GamesClient(
    withGamesErrors(createClient(CatalogService, transport)),
    withGamesErrors(createClient(IngestionService, transport)),
    sessions,
  );
}

/** A client for the local suite's gateway, with the key named `key` (`reader`, `admin`) or that key itself. */
export function connectFromSuite(
  path: string = DEFAULT_SUITE,
  key = "reader",
  options: Partial<Omit<ConnectOptions, "apiKey" | "caFile" | "certFile" | "keyFile">> = {},
): GamesClient {
  const suite = loadSuite(path);
  const target = options.target ?? suite.addresses["gateway"];
  if (target === undefined) throw new SuiteError(`${path} names no gateway address`);
  return connect({
    ...options,
    target,
    apiKey: suite.apiKeys[key] ?? key,
    caFile: suite.caFile,
    ...(suite.certFile !== undefined && suite.keyFile !== undefined && { certFile: suite.certFile, keyFile: suite.keyFile }),
  });
}
