// The checklist content a version carries (canonical JSON, the same the
// scoring engine reads), typed for display. Text stays as the pack wrote it.

export interface Target {
  op: "<=" | ">=";
  value: number;
}
export interface Option {
  value: string;
  label: string;
  points: number;
}
export interface Rule {
  when: { answer?: string; failed?: boolean };
  require: { note?: boolean; photos?: number };
}
export interface Question {
  id: string;
  type: string;
  text: string;
  standard?: string;
  weight?: number;
  critical?: boolean;
  required?: boolean;
  allow_na?: boolean;
  pass_on_no?: boolean;
  scale_max?: number;
  unit?: string;
  target?: Target;
  options?: Option[];
  required_count?: number;
  rules?: Rule[];
}
export interface Section {
  id: string;
  title: string;
  questions: Question[];
}
export interface Standard {
  code: string;
  clause: string;
  category: string;
}
export interface ChecklistContent {
  id: string;
  name: string;
  channel: string;
  sections: Section[];
  standards?: Standard[];
  critical_cap?: { scope?: string; percent: number };
}

export function parseContent(bytes: Uint8Array | undefined): ChecklistContent | null {
  if (!bytes || bytes.length === 0) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as ChecklistContent;
  } catch {
    return null;
  }
}

/** unitMs is the length of one unit of a timer question, in ms. */
export function unitMs(unit: string | undefined): number {
  switch (unit) {
    case "ms":
      return 1;
    case "min":
      return 60_000;
    case "h":
      return 3_600_000;
    default:
      return 1000;
  }
}

/** timerVerdict compares a measured duration with the question's SLA. */
export function timerVerdict(q: Question, durationMs: number): "within" | "over" | "none" {
  if (!q.target) return "none";
  const limit = q.target.value * unitMs(q.unit);
  const ok = q.target.op === "<=" ? durationMs <= limit : durationMs >= limit;
  return ok ? "within" : "over";
}

/** Numbers a proof flag's detail carries, for a sentence in the user's language. */
export interface FlagNumbers {
  meters?: number;
  geofence?: number;
  accuracy?: number;
  store?: string;
  what?: string;
  skewMinutes?: number;
  measured?: string;
}

/**
 * flagNumbers reads the measured numbers out of the server's English
 * detail ("check-in 812 m from MSK-01 (geofence 150 m, accuracy 10 m)",
 * "device clock off by 1h2m0s"). Unknown shapes give an empty object and
 * the detail is shown as the server wrote it.
 */
export function flagNumbers(code: string, detail: string): FlagNumbers {
  const geo = /^(.*) (\d+(?:\.\d+)?) m from (\S+) \(geofence (\d+(?:\.\d+)?) m, accuracy (\d+(?:\.\d+)?) m\)$/.exec(detail);
  if (geo) {
    return { what: geo[1], meters: Number(geo[2]), store: geo[3], geofence: Number(geo[4]), accuracy: Number(geo[5]) };
  }
  if (code === "device_clock_skew") {
    const m = /off by (-?)(?:(\d+)h)?(?:(\d+)m)?(?:([\d.]+)s)?/.exec(detail);
    if (m) {
      const mins = Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) / 60;
      return { skewMinutes: (m[1] ? -1 : 1) * Math.round(mins) };
    }
  }
  if (code === "timer_implausible") {
    const m = /measured (\S+)/.exec(detail);
    if (m) return { measured: m[1] };
  }
  return {};
}
