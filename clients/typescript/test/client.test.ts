/**
 * The client against a running suite (real gateway, mTLS, keys), started by
 * tests/e2e/test_typescript_client.py: GAMES_SUITE names its suite.json, GAMES_CONTROL_DIR is where
 * this file asks the Python side to stop and start the catalog (a file per step, both ways).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as pause } from "node:timers/promises";
import { after, test } from "node:test";

import { Code, connectFromSuite, GamesError, Platform, type GamesClient, type RetryEvent } from "../src/index.js";

const SUITE = process.env["GAMES_SUITE"] ?? ".local/suite.json";
const CONTROL = process.env["GAMES_CONTROL_DIR"];
const STEP_WAIT_MS = 120_000;

const reader = connectFromSuite(SUITE, "reader");
const admin = connectFromSuite(SUITE, "admin");
after(() => {
  reader.close();
  admin.close();
});

async function refusal(call: Promise<unknown>): Promise<GamesError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof GamesError, `a GamesError, not ${String(error)}`);
    return error;
  }
  assert.fail("the call succeeded");
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

function newGame(displayName: string): { displayName: string; platform: Platform; storeId: string } {
  return { displayName, platform: Platform.IOS, storeId: randomUUID() };
}

void test("a deadline of 0 means none: calls still answer", async () => {
  const unbounded = connectFromSuite(SUITE, "reader", { deadlineMs: 0 });
  try {
    const page = await unbounded.catalog.listGames({ pageSize: 1 });
    assert.equal(page.games.length, 1);
  } finally {
    unbounded.close();
  }
});

void test("search finds Pokémon GO among the sample games", async () => {
  const names = (await collect(reader.games.searchGames("pokemon"))).map((g) => g.displayName);
  assert.ok(names.includes("Pokémon GO"), `found ${names.join(", ")}`);
});

void test("get returns the game search found", async () => {
  const [found] = await collect(reader.games.searchGames("pokemon go"));
  assert.ok(found);
  const game = await reader.games.getGame(found.name);
  assert.equal(game.name, found.name);
  assert.equal(game.displayName, found.displayName);
});

void test("create with a request id is idempotent, and a reused id is refused with a field violation", async () => {
  const requestId = randomUUID();
  const game = newGame("TypeScript Client Game");
  const first = await admin.games.createGame(game, requestId);
  const again = await admin.games.createGame(game, requestId);
  assert.equal(again.name, first.name);
  assert.equal(first.displayName, "TypeScript Client Game");

  const reused = await refusal(admin.games.createGame(newGame("Another Game"), requestId));
  assert.equal(reused.code, Code.InvalidArgument);
  assert.equal(reused.reason, "REQUEST_ID_REUSED");
  assert.deepEqual(
    reused.fieldViolations.map((v) => v.field),
    ["request_id"],
  );
});

void test("a write with the reader key is PERMISSION_DENIED with its reason", async () => {
  const denied = await refusal(reader.games.createGame(newGame("Not Allowed")));
  assert.equal(denied.code, Code.PermissionDenied);
  assert.equal(denied.codeName, "PERMISSION_DENIED");
  assert.equal(denied.reason, "MISSING_SCOPE");
  assert.equal(denied.domain, "games.platform");
  assert.ok(denied.requestId, "the gateway names the request");
});

void test("paging visits every game once", async () => {
  const paged = await collect(reader.games.listGames({ pageSize: 7 }));
  const names = paged.map((g) => g.name);
  assert.equal(new Set(names).size, names.length, "no game twice");
  const whole = await reader.catalog.listGames({ pageSize: 1000 });
  assert.equal(whole.nextPageToken, "");
  assert.deepEqual(names, whole.games.map((g) => g.name));
  assert.ok(names.length > 100, `${names.length} games`);
});

void test("ingestion reads page too, with the admin key", async () => {
  const runs = await collect(admin.listRuns(1));
  assert.ok(runs.length >= 1, "the launcher ran one ingestion");
  const files = await collect(admin.listFiles());
  assert.ok(files.length >= 1);
});

async function step(ask: string, answer: string): Promise<void> {
  assert.ok(CONTROL, "GAMES_CONTROL_DIR names where to ask for a catalog restart");
  writeFileSync(join(CONTROL, ask), "");
  const started = Date.now();
  while (!existsSync(join(CONTROL, answer))) {
    assert.ok(Date.now() - started < STEP_WAIT_MS, `no ${answer} after asking ${ask}`);
    await pause(100);
  }
}

void test("a read is retried across a catalog restart; a write is not", async (t) => {
  const retries: RetryEvent[] = [];
  let restarting: Promise<void> | undefined;
  const patient: GamesClient = connectFromSuite(SUITE, "reader", {
    deadlineMs: STEP_WAIT_MS,
    retry: { maxAttempts: 1000, maxBackoffMs: 500 },
    onRetry: (event) => {
      retries.push(event);
      // The catalog comes back only once the read has been refused and is being retried.
      restarting ??= step("start-catalog", "catalog-serving");
    },
  });
  const writes: RetryEvent[] = [];
  const writer = connectFromSuite(SUITE, "admin", { onRetry: (event) => writes.push(event) });
  try {
    await step("stop-catalog", "catalog-stopped");

    const write = await refusal(writer.games.createGame(newGame("While Down")));
    assert.equal(write.code, Code.Unavailable);
    assert.deepEqual(writes, [], "a write is never sent twice");

    // A query of its own, so no gateway cache can answer it.
    const page = await patient.catalog.searchGames({ query: `restart ${randomUUID()}` });
    assert.deepEqual(page.games, []);
    assert.ok(retries.length >= 1, "the read was refused at least once and retried");
    assert.ok(retries.every((r) => r.error.code === Code.Unavailable && r.method.endsWith("/SearchGames")));
    await restarting;
    t.diagnostic(`the read was retried ${retries.length} times while the catalog restarted`);
  } finally {
    patient.close();
    writer.close();
  }
});
