import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { flagNumbers, timerVerdict } from "./checklist";
import { ChecklistQuestionSchema, QuestionTargetSchema, TargetOperator } from "../gen/shopscore/v1/checklist_pb";

describe("flagNumbers", () => {
  it("reads a geofence distance", () => {
    expect(flagNumbers("checkin_outside_geofence", "check-in 812 m from MSK-01 (geofence 150 m, accuracy 10 m)")).toEqual({ meters: 812, geofence: 150, accuracy: 10 });
  });
  it("reads a clock skew in minutes", () => {
    expect(flagNumbers("device_clock_skew", "device clock off by 1h2m0s")).toEqual({ skewMinutes: 62 });
    expect(flagNumbers("device_clock_skew", "device clock off by -15m30s")).toEqual({ skewMinutes: -16 });
  });
  it("gives nothing for an unknown shape", () => {
    expect(flagNumbers("photo_reused", "photo abc… was already used in another visit")).toEqual({});
  });
});

describe("timerVerdict", () => {
  const q = create(ChecklistQuestionSchema, { id: "greet", text: "Greeted within 30 s", unit: "s", target: create(QuestionTargetSchema, { operator: TargetOperator.AT_MOST, value: 30 }) });
  it("compares with the SLA in the question's unit", () => {
    expect(timerVerdict(q, 12_000)).toBe("within");
    expect(timerVerdict(q, 30_000)).toBe("within");
    expect(timerVerdict(q, 45_000)).toBe("over");
    expect(timerVerdict({ unit: "min", target: create(QuestionTargetSchema, { operator: TargetOperator.AT_MOST, value: 5 }) }, 4 * 60_000)).toBe("within");
    expect(timerVerdict({ unit: "s", target: create(QuestionTargetSchema, { operator: TargetOperator.AT_LEAST, value: 5 }) }, 4000)).toBe("over");
    expect(timerVerdict({ unit: "s", target: undefined }, 1)).toBe("none");
  });
});
