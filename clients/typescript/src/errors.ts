/**
 * GamesError: a failed call with its gRPC code and the google.rpc details the platform sends
 * (ErrorInfo on every error, BadRequest for invalid input, RetryInfo when rate limited), so callers
 * branch on `reason` and `fieldViolations` instead of parsing messages.
 */
import { Code, ConnectError } from "@connectrpc/connect";

import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "./gen/google/rpc/error_details_pb.js";

const REQUEST_ID_HEADER = "x-request-id";

/** One invalid field of a request, as the server's BadRequest names it. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/** The gRPC name of a code, `PERMISSION_DENIED` for Code.PermissionDenied. */
export function codeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

export class GamesError extends Error {
  override readonly name = "GamesError";
  /** The gRPC status code (Connect's Code enum has the gRPC numbering). */
  readonly code: Code;
  /** The status message without the `[code]` prefix Connect adds. */
  readonly rawMessage: string;
  /** The request id the gateway gave the call, to quote to the operators. */
  readonly requestId: string | undefined;
  /** ErrorInfo.reason: a stable name such as MISSING_SCOPE or REQUEST_ID_REUSED. */
  readonly reason: string | undefined;
  /** ErrorInfo.domain (`games.platform`). */
  readonly domain: string | undefined;
  /** ErrorInfo.metadata. */
  readonly metadata: Readonly<Record<string, string>>;
  /** BadRequest.field_violations. */
  readonly fieldViolations: readonly FieldViolation[];
  /** RetryInfo.retry_delay in milliseconds, when the server says when to try again. */
  readonly retryDelayMs: number | undefined;

  constructor(cause: ConnectError) {
    super(`${codeName(cause.code)}: ${cause.rawMessage}`, { cause });
    this.code = cause.code;
    this.rawMessage = cause.rawMessage;
    this.requestId = cause.metadata.get(REQUEST_ID_HEADER) ?? undefined;
    const info = cause.findDetails(ErrorInfoSchema)[0];
    this.reason = info?.reason || undefined;
    this.domain = info?.domain || undefined;
    this.metadata = { ...info?.metadata };
    this.fieldViolations = cause
      .findDetails(BadRequestSchema)
      .flatMap((bad) => bad.fieldViolations.map((v) => ({ field: v.field, description: v.description })));
    const delay = cause.findDetails(RetryInfoSchema)[0]?.retryDelay;
    this.retryDelayMs = delay ? Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1e6) : undefined;
  }

  /** The gRPC name of `code`, `PERMISSION_DENIED`. */
  get codeName(): string {
    return codeName(this.code);
  }

  /** Any error thrown by a call as a GamesError (a GamesError is returned as it is). */
  static from(error: unknown): GamesError {
    return error instanceof GamesError ? error : new GamesError(ConnectError.from(error));
  }
}
