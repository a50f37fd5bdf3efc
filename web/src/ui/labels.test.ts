import { describe, expect, it } from "vitest";
import { DEFAULT_LABEL_COLORS, DEFAULT_LABEL_SCHEMA, KEY_COLORS, LABEL_KEYS, SHORT_NAMES } from "../core/labels";
import { LABEL_NAMES } from "./labels";

describe("the label table", () => {
  it("names label 1 the lung without lesion and derives every view from one table", () => {
    expect(DEFAULT_LABEL_SCHEMA).toEqual([
      { value: 1, name: "lung without lesion", color: "#3c8dde" }, { value: 2, name: "ground-glass opacity", color: "#f2c12e" },
      { value: 3, name: "consolidation", color: "#e0403a" },
    ]);
    expect(DEFAULT_LABEL_COLORS).toEqual(["#000000", "#3c8dde", "#f2c12e", "#e0403a"]);
    expect(SHORT_NAMES).toEqual(["", "lung without lesion", "GGO", "consolidation"]);
    expect(LABEL_KEYS).toEqual(["lung", "ggo", "consolidation"]);
    expect(KEY_COLORS.ggo).toBe("#f2c12e");
    expect(LABEL_NAMES).toEqual({ "1": "lung without lesion", "2": "GGO", "3": "consolidation", "2+3": "infection (GGO+consolidation)" });
  });
});
