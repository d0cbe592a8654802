import { describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { describeError, isNetworkError, parsePackProblems, rowProblems } from "./errors";
import { en } from "../i18n/en";

describe("describeError", () => {
  it("maps every Connect code to a catalog message", () => {
    for (const code of Object.values(Code).filter((c): c is Code => typeof c === "number")) {
      const d = describeError(new ConnectError("x", code));
      expect(en[d.key], Code[code]).toBeTruthy();
    }
  });
  it("keeps the server's message, never a raw code", () => {
    const d = describeError(new ConnectError("visit is not in review", Code.FailedPrecondition));
    expect(d).toEqual({ key: "error.failedPrecondition", detail: "visit is not in review" });
    expect(d.detail).not.toContain("failed_precondition");
  });
  it("hides generic internal messages", () => {
    expect(describeError(new ConnectError("internal error", Code.Internal)).detail).toBe("");
  });
  it("tells a lost connection", () => {
    const lost = new ConnectError("Failed to fetch", Code.Unknown, undefined, undefined, new TypeError("Failed to fetch"));
    expect(isNetworkError(lost)).toBe(true);
    expect(describeError(lost).key).toBe("error.offline");
    expect(isNetworkError(new ConnectError("no", Code.Unavailable))).toBe(true);
    expect(isNetworkError(new ConnectError("no", Code.NotFound))).toBe(false);
    expect(describeError(new Error("?")).key).toBe("error.unknown");
  });
});

describe("parsePackProblems", () => {
  it("reads file, line, column, path and message", () => {
    const msg = [
      'my-pack.json:17:22: checklists[0].sections[0].questions[0]: target "op" must be "<=" or ">=", not "<"',
      'my-pack.json:19:75: checklists[0].sections[0].questions[1]: "weight" must be > 0',
      "my-pack.json:1:1: invalid character '}' looking for beginning of value",
    ].join("\n");
    expect(parsePackProblems(msg)).toEqual([
      { file: "my-pack.json", line: 17, column: 22, path: "checklists[0].sections[0].questions[0]", message: 'target "op" must be "<=" or ">=", not "<"' },
      { file: "my-pack.json", line: 19, column: 75, path: "checklists[0].sections[0].questions[1]", message: '"weight" must be > 0' },
      { file: "my-pack.json", line: 1, column: 1, path: "", message: "invalid character '}' looking for beginning of value" },
    ]);
  });
});

describe("rowProblems", () => {
  it("puts every problem at its file row", () => {
    const e = new ConnectError("pay.csv: row 3: employee E9: the amount is empty\npay.csv: row 4: no staff with employee number E404", Code.InvalidArgument);
    expect(rowProblems(e)).toEqual([
      { file: "pay.csv", line: 3, column: 0, path: "", message: "employee E9: the amount is empty" },
      { file: "pay.csv", line: 4, column: 0, path: "", message: "no staff with employee number E404" },
    ]);
  });
});
