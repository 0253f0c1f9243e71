/**
 * @games-platform/client: the games platform from TypeScript.
 *
 *     const client = connectFromSuite(".local/suite.json", "reader");
 *     for await (const game of client.games.searchGames("pokemon")) console.log(game.displayName);
 */
export {
  connect,
  connectFromSuite,
  DEFAULT_DEADLINE_MS,
  DEFAULT_PAGE_SIZE,
  Games,
  GamesClient,
  paginate,
  type ConnectOptions,
  type PageOptions,
  type PlatformLike,
} from "./client.js";
export { codeName, GamesError, type FieldViolation } from "./errors.js";
export { DEFAULT_RETRY, READ_METHODS, type RetryEvent, type RetryPolicy } from "./interceptors.js";
export { DEFAULT_SUITE, loadSuite, SuiteError, type SuiteInfo } from "./suite.js";
export { Code } from "@connectrpc/connect";
export * from "./gen/games/catalog/v1/catalog_pb.js";
export * from "./gen/games/ingestion/v1/ingestion_pb.js";
