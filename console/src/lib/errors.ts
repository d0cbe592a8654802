// Errors in words: every Connect code has a catalog message, and the
// server's own message (which names what is wrong) follows it.
import { Code, ConnectError } from "@connectrpc/connect";
import type { MessageKey } from "../i18n/en";
import { ImportProblemsSchema } from "../gen/shopscore/v1/problem_pb";

const codeKeys: Record<Code, MessageKey> = {
  [Code.Canceled]: "error.canceled",
  [Code.Unknown]: "error.unknown",
  [Code.InvalidArgument]: "error.invalidArgument",
  [Code.DeadlineExceeded]: "error.deadlineExceeded",
  [Code.NotFound]: "error.notFound",
  [Code.AlreadyExists]: "error.alreadyExists",
  [Code.PermissionDenied]: "error.permissionDenied",
  [Code.ResourceExhausted]: "error.resourceExhausted",
  [Code.FailedPrecondition]: "error.failedPrecondition",
  [Code.Aborted]: "error.aborted",
  [Code.OutOfRange]: "error.outOfRange",
  [Code.Unimplemented]: "error.unimplemented",
  [Code.Internal]: "error.internal",
  [Code.Unavailable]: "error.unavailable",
  [Code.DataLoss]: "error.dataLoss",
  [Code.Unauthenticated]: "error.unauthenticated",
};

/** isNetworkError tells a call that never reached the server. */
export function isNetworkError(e: unknown): boolean {
  if (e instanceof TypeError) return true;
  if (!(e instanceof ConnectError)) return false;
  if (e.code === Code.Unavailable) return true;
  return e.code === Code.Unknown && e.cause instanceof TypeError;
}

export interface Described {
  /** The catalog message for the kind of error. */
  key: MessageKey;
  /** The server's message, when it said something a person can use. */
  detail: string;
}

/** describeError turns anything a call threw into a catalog key and detail. */
export function describeError(e: unknown): Described {
  if (isNetworkError(e)) return { key: "error.offline", detail: "" };
  if (e instanceof ConnectError) {
    // Internal errors carry a generic text by design; unknown ones may be
    // a browser's wording. Neither helps a person.
    const detail = e.code === Code.Internal || e.code === Code.Unknown ? "" : e.rawMessage;
    return { key: codeKeys[e.code] ?? "error.unknown", detail };
  }
  return { key: "error.unknown", detail: "" };
}

/**
 * PackProblem is one line of ImportPack's refusal:
 * "file:line:col: path: what is wrong".
 */
export interface PackProblem {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

/**
 * importProblems lists what an import refused: the ImportProblems detail
 * when the server sent one, else the lines of its message.
 */
export function importProblems(e: ConnectError): PackProblem[] {
  const details = e.findDetails(ImportProblemsSchema);
  if (details.length > 0) {
    return details.flatMap((d) =>
      d.problems.map((p) => ({ file: p.fileName, line: p.line, column: p.column, path: p.path, message: p.message })),
    );
  }
  return parsePackProblems(e.rawMessage);
}

export function parsePackProblems(message: string): PackProblem[] {
  const out: PackProblem[] = [];
  for (const raw of message.split("\n")) {
    const m = /^(.*?):(\d+):(\d+): (?:([^:]*?): )?(.*)$/.exec(raw.trim());
    if (m) {
      out.push({ file: m[1], line: Number(m[2]), column: Number(m[3]), path: m[4] ?? "", message: m[5] });
    }
  }
  return out;
}

/**
 * rowProblems lists what a file import refused when the server names rows
 * in its message ("pay.csv: row 3: what is wrong", one per line), or the
 * ImportProblems detail when it sent one.
 */
export function rowProblems(e: ConnectError): PackProblem[] {
  if (e.findDetails(ImportProblemsSchema).length > 0) return importProblems(e);
  const out: PackProblem[] = [];
  for (const raw of e.rawMessage.split("\n")) {
    const m = /^(.*?): row (\d+): (.*)$/.exec(raw.trim());
    if (m) out.push({ file: m[1], line: Number(m[2]), column: 0, path: "", message: m[3] });
    else if (raw.trim()) out.push({ file: "", line: 0, column: 0, path: "", message: raw.trim().replace(/^[^:]*\.(csv|xlsx): /, "") });
  }
  return out;
}
