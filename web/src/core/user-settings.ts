/**
 * The user's own viewer habits, kept in this browser (localStorage): which way the mouse wheel
 * scrolls axial slices, and the label they painted with last. No I/O besides localStorage.
 */

const KEY = "lunglab.settings";

export interface UserSettings {
  /** "feet": wheel down moves toward the feet (the PACS convention, default); "head": the reverse. */
  wheelDown: "feet" | "head";
  /** The label value the user chose last (the study page starts with it). */
  lastLabel: number | null;
}

const DEFAULTS: UserSettings = { wheelDown: "feet", lastLabel: null };

export function loadSettings(): UserSettings {
  try {
    const raw = JSON.parse(localStorage.getItem(KEY) ?? "{}") as Partial<UserSettings>;
    return {
      wheelDown: raw.wheelDown === "head" ? "head" : "feet",
      lastLabel: typeof raw.lastLabel === "number" && Number.isInteger(raw.lastLabel) ? raw.lastLabel : null,
    };
  } catch { return { ...DEFAULTS }; }
}

export function saveSettings(change: Partial<UserSettings>): UserSettings {
  const next = { ...loadSettings(), ...change };
  try { localStorage.setItem(KEY, JSON.stringify(next)); } catch { /* storage full or blocked: keep defaults */ }
  return next;
}
