/** Promoting a model version (job page, models page), with the gate-override dialog. */
import * as api from "../../core/api";
import { ApiError, type ModelVersionPublic } from "../../core/api";
import { h } from "../../ui/dom";
import { showModal } from "../../ui/dialog";

/** Promote with the gate; on a failed gate offer an override with a written reason. */
export async function promote(m: ModelVersionPublic, done: () => void, say: (t: string, err?: boolean) => void): Promise<void> {
  try { await api.promoteModel(m.id, false, null); say(`${m.name} is now the active model.`); done(); return; } catch (e) {
    if (!(e instanceof ApiError && e.status === 409 && typeof e.detail === "object" && e.detail && "gate" in e.detail)) { say((e as Error).message, true); return; }
    const gate = (e.detail as { gate: { reasons: string[] } }).gate;
    const reason = h("textarea", { id: "override-reason", rows: 3, placeholder: "Why promote despite the gate? (at least 10 characters; audited)" });
    const err = h("p", { class: "error" });
    const dlg = h("dialog", { id: "override-dialog" }, h("h2", {}, "Promotion gate failed"),
      h("ul", {}, ...gate.reasons.map((r) => h("li", {}, r))), h("p", {}, "An admin may override with a written reason."), reason, err,
      h("div", { class: "buttons" },
        h("button", { class: "primary", id: "override-confirm", onclick: async () => {
          try { await api.promoteModel(m.id, true, reason.value); close(); say(`${m.name} promoted (override).`); done(); }
          catch (e2) { err.textContent = (e2 as Error).message; }
        } }, "Override and promote"),
        h("button", { onclick: () => close() }, "Cancel")));
    const close = showModal(dlg);
  }
}
