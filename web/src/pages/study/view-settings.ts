/** The reader's own settings on the study page, kept in this browser: which way the wheel scrolls. */
import { loadSettings, saveSettings } from "../../core/user-settings";
import { h } from "../../ui/dom";

export function viewSettings(): HTMLElement {
  const sel = h("select", { id: "wheel-direction", "aria-label": "Mouse wheel down moves",
    onchange: (e: Event) => { saveSettings({ wheelDown: (e.target as HTMLSelectElement).value === "head" ? "head" : "feet" }); } },
    h("option", { value: "feet" }, "toward the feet (PACS)"), h("option", { value: "head" }, "toward the head"));
  sel.value = loadSettings().wheelDown;
  return h("details", { class: "settings", id: "view-settings" }, h("summary", {}, "Settings"),
    h("label", {}, "Wheel down moves ", sel),
    h("p", { class: "muted" }, "Axial slice 1 is the most cranial slice."));
}
