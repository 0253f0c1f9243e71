/**
 * `.local/suite.json`, written by `make up`: the gateway's address, the dev CA and operator
 * certificate (paths relative to the repository root, the parent of `.local`), and the dev keys.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";

export const DEFAULT_SUITE = ".local/suite.json";

export class SuiteError extends Error {
  override readonly name = "SuiteError";
}

export interface SuiteInfo {
  readonly path: string;
  /** Service name → host:port (`gateway`, `catalog`, `ingestion`). */
  readonly addresses: Readonly<Record<string, string>>;
  readonly caFile: string;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  /** Key name (`admin`, `reader`) → plaintext key. */
  readonly apiKeys: Readonly<Record<string, string>>;
}

const FILES = new Set(["ca", "client_cert", "client_key"]);

/** Read a suite file; SuiteError says what is wrong with it. */
export function loadSuite(path: string = DEFAULT_SUITE): SuiteInfo {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new SuiteError(missing ? `no suite file at ${path} (run \`make up\`)` : `cannot read ${path}: ${String(error)}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new SuiteError(`${path} is not a JSON object`);
  }
  const entries = Object.entries(data as Record<string, unknown>);
  const folder = dirname(resolve(path));
  const root = basename(folder) === ".local" ? dirname(folder) : folder;
  const file = (name: string): string | undefined => {
    const value = (data as Record<string, unknown>)[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw new SuiteError(`${path}: ${name} must be a path`);
    return resolve(root, value);
  };
  const keys = (data as Record<string, unknown>)["api_keys"] ?? {};
  if (typeof keys !== "object" || keys === null || !Object.values(keys).every((v) => typeof v === "string")) {
    throw new SuiteError(`${path}: api_keys must map names to keys`);
  }
  const caFile = file("ca");
  if (caFile === undefined) throw new SuiteError(`${path} names no CA file`);
  return {
    path,
    addresses: Object.fromEntries(entries.filter(([k, v]) => typeof v === "string" && !FILES.has(k))) as Record<
      string,
      string
    >,
    caFile,
    certFile: file("client_cert"),
    keyFile: file("client_key"),
    apiKeys: Object.fromEntries(Object.entries(keys as Record<string, string>).map(([k, v]) => [k, v.trim()])),
  };
}
