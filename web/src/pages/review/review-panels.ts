/** Read-only panels of the review screen: pairwise agreement, and provenance with correction effort. */
import * as api from "../../core/api";
import type { Effort, ReviewOut } from "../../core/types";
import { fmtTime, h } from "../../ui/dom";
import { fmtDice, fmtSeconds, LABEL_NAMES } from "../../ui/labels";

/** The agreement table (Dice, HD95, volumes per reader pair and label) and reader-vs-consensus line. */
export async function loadAgreement(sid: number, review: ReviewOut, agreementBox: HTMLElement, dbg: Record<string, unknown>): Promise<void> {
  if (review.readers.length < 2) { agreementBox.textContent = "Agreement needs at least two submitted readings."; return; }
  try {
    const a = await api.agreement(sid);
    dbg.agreement = a;
    agreementBox.innerHTML = "";
    agreementBox.append(h("table", { class: "worklist", id: "agreement-table" },
      h("thead", {}, h("tr", {}, ...["Label", "Mean Dice", "Pair", "Dice", "HD95 mm", "Vol a / b mL"].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...a.labels.flatMap((l) => l.pairs.map((p, k) => h("tr", { "data-label": l.label },
        h("td", {}, k === 0 ? LABEL_NAMES[l.label] ?? l.label : ""), h("td", { class: "num mean-dice" }, k === 0 ? fmtDice(l.mean_dice) : ""),
        h("td", {}, `${p.reader_a} vs ${p.reader_b}`), h("td", { class: "num" }, fmtDice(p.dice)),
        h("td", { class: "num" }, p.hd95_mm === null ? "n/a" : p.hd95_mm.toFixed(1)),
        h("td", { class: "num" }, `${p.volume_a_ml.toFixed(1)} / ${p.volume_b_ml.toFixed(1)}`)))))),
    h("p", { class: "muted" }, `Reader vs consensus (${a.consensus?.method ?? "none"}): ` + a.readers.map((r) => `${r.reader} ${fmtDice(r.labels["2+3"]?.dice_vs_consensus)}`).join(", ")));
  } catch (e) { agreementBox.textContent = `Agreement unavailable: ${(e as Error).message}`; }
}

/** The version chain (AI -> readers -> consensus) and each reader's correction effort. */
export async function loadHistory(sid: number, historyBox: HTMLElement): Promise<void> {
  try {
    const hist = await api.history(sid);
    const eff = (e: Effort) => e ? `${e.changed_voxels.toLocaleString()} voxels changed (+${Object.values(e.added).reduce((a, b) => a + b, 0).toLocaleString()} / −${Object.values(e.removed).reduce((a, b) => a + b, 0).toLocaleString()})` : "n/a";
    historyBox.innerHTML = "";
    historyBox.append(
      h("ol", { class: "comments", id: "history-chain" }, ...hist.versions.map((v) => h("li", { "data-version": v.id },
        h("strong", {}, `v${v.id}`), ` ${v.step} · ${v.kind}${v.model_name ? ` (${v.model_name})` : ""}${v.author ? ` · ${v.author}` : ""}${v.parent_id ? ` · from v${v.parent_id}` : ""}${v.inputs ? ` · inputs ${v.inputs.map((i) => `v${i}`).join(", ")}` : ""} · ${fmtTime(v.created_at)}`))),
      h("table", { class: "worklist", id: "history-effort" }, h("thead", {}, h("tr", {}, ...["Reader", "Chain", "Active", "Effort vs start", "Effort vs AI"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...hist.readers.map((r) => h("tr", {}, h("td", {}, r.reader), h("td", {}, r.chain.map((c) => `v${c}`).join(" → ")), h("td", { class: "num" }, fmtSeconds(r.active_seconds)),
          h("td", {}, eff(r.effort?.vs_start ?? null)), h("td", {}, eff(r.effort?.vs_ai ?? null)))))));
  } catch (e) { historyBox.textContent = `History unavailable: ${(e as Error).message}`; }
}
