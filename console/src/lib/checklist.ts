// Reading a checklist question for people: its SLA verdict, and the
// numbers of a proof flag recorded before the API carried them in fields.
import { TargetOperator, type ChecklistQuestion } from "../gen/shopscore/v1/checklist_pb";

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

/** opSign is the target's operator as written in packs. */
export function opSign(op: TargetOperator): string {
  return op === TargetOperator.AT_LEAST ? "≥" : "≤";
}

/** timerVerdict compares a measured duration with the question's SLA. */
export function timerVerdict(q: Pick<ChecklistQuestion, "unit" | "target">, durationMs: number): "within" | "over" | "none" {
  if (!q.target || q.target.operator === TargetOperator.UNSPECIFIED) return "none";
  const limit = q.target.value * unitMs(q.unit);
  const ok = q.target.operator === TargetOperator.AT_MOST ? durationMs <= limit : durationMs >= limit;
  return ok ? "within" : "over";
}

/** Numbers a proof flag's detail carries, for a sentence in the user's language. */
export interface FlagNumbers {
  meters?: number;
  geofence?: number;
  accuracy?: number;
  skewMinutes?: number;
}

/**
 * flagNumbers reads the measured numbers out of the server's English
 * detail ("check-in 812 m from MSK-01 (geofence 150 m, accuracy 10 m)",
 * "device clock off by 1h2m0s"), for flags stored before ProofFlag had
 * them in fields. Unknown shapes give an empty object and the detail is
 * shown as the server wrote it.
 */
export function flagNumbers(code: string, detail: string): FlagNumbers {
  const geo = /(\d+(?:\.\d+)?) m from \S+ \(geofence (\d+(?:\.\d+)?) m, accuracy (\d+(?:\.\d+)?) m\)$/.exec(detail);
  if (geo) return { meters: Number(geo[1]), geofence: Number(geo[2]), accuracy: Number(geo[3]) };
  if (code === "device_clock_skew") {
    const m = /off by (-?)(?:(\d+)h)?(?:(\d+)m)?(?:([\d.]+)s)?/.exec(detail);
    if (m) {
      const mins = Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) / 60;
      return { skewMinutes: (m[1] ? -1 : 1) * Math.round(mins) };
    }
  }
  return {};
}
