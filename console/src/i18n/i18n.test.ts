import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { catalogs, locales, pickLocale, placeholders, translate } from "./translate";
import { en } from "./en";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === "gen" ? [] : sources(p);
    return /\.tsx?$/.test(f) && !f.endsWith(".test.ts") ? [p] : [];
  });
}

describe("catalogs", () => {
  it("have the same keys in every language", () => {
    const keys = Object.keys(en).sort();
    for (const l of locales) expect(Object.keys(catalogs[l]).sort(), l).toEqual(keys);
  });
  it("have the same placeholders and no empty message", () => {
    for (const l of locales) {
      for (const [k, v] of Object.entries(catalogs[l])) {
        expect(v.trim(), `${l} ${k}`).not.toBe("");
        expect(placeholders(v), `${l} ${k}`).toEqual(placeholders(en[k as keyof typeof en]));
      }
    }
  });
  it("hold every key the sources use", () => {
    const root = join(__dirname, "..");
    const used = new Set<string>();
    for (const f of sources(root)) {
      for (const m of readFileSync(f, "utf8").matchAll(/"((?:action|app|appeal|assign|assignmentState|bonus|channel|checklist|common|dash|error|events|flag|form|home|invite|keys|login|me|nav|org|policy|proof|proofShort|qtype|reports|review|role|sessions|setPassword|settings|staff|stores|users|versionState|visit|visitState|tokens|webhooks)\.[a-zA-Z0-9_]+)"/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(200);
    for (const k of used) expect(en, k).toHaveProperty([k]);
  });
  it("fills placeholders", () => {
    expect(translate("ru", "assign.created", { ok: 3, n: 4 })).toBe("Создано 3 из 4.");
    expect(translate("en", "home.hello", { name: "Anna" })).toBe("Hello, Anna");
  });
  it("picks the browser's language", () => {
    expect(pickLocale(["ru-RU", "en"])).toBe("ru");
    expect(pickLocale(["de-DE", "en-US"])).toBe("en");
    expect(pickLocale(["fr"])).toBe("en");
  });
});
