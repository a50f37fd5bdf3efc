/**
 * Radiograph agreement across readers, shown on the project's agreement page: Fleiss' and
 * Cohen's kappa for the RSNA category, ICC(2,1) for the Brixia and RALE scores, and each
 * compared study's readings.
 */
import * as api from "../../core/api";
import type { ScoreAgreement } from "../../core/types";
import { h } from "../../ui/dom";

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? "n/a" : v.toFixed(3));

function scoreRow(name: string, s: ScoreAgreement, id: string): HTMLElement {
  return h("tr", {}, h("td", {}, name), h("td", { class: "num", id }, fmt(s.icc)), h("td", { class: "num" }, fmt(s.icc_consistency)),
    h("td", { class: "num" }, String(s.studies)), h("td", {}, s.readers.join(", ") || "—"));
}

/** The section, or null when the project has no radiograph readings (or the user may not see them). */
export async function radiographAgreementSection(pid: number): Promise<HTMLElement | null> {
  let a;
  try { a = await api.radiographAgreement(pid); } catch { return null; }
  if (a.studies_read === 0) return null;
  const c = a.category;
  return h("section", { class: "card", id: "radiograph-agreement" },
    h("h2", {}, "Chest radiographs: findings and scores"),
    h("p", { class: "muted" }, `${a.studies_compared} of ${a.studies_read} radiograph${a.studies_read === 1 ? "" : "s"} read by two or more readers. `,
      "Kappa for the RSNA category (normal / typical / indeterminate / atypical), ICC(2,1) (absolute agreement, single reader) for the scores; ",
      "n/a where too few studies or no variation make it undefined."),
    h("table", { class: "worklist" },
      h("thead", {}, h("tr", {}, ...["Category", "Fleiss' kappa", "Readers", "Studies"].map((t) => h("th", {}, t)))),
      h("tbody", {}, h("tr", {}, h("td", {}, "RSNA category"), h("td", { class: "num", id: "fleiss-kappa" }, fmt(c.fleiss_kappa)),
        h("td", {}, [...new Set(c.pairs.flatMap((p) => [p.reader_a, p.reader_b]))].join(", ") || "—"), h("td", { class: "num" }, String(a.studies_compared))))),
    c.pairs.length ? h("table", { class: "worklist", id: "kappa-pairs" },
      h("thead", {}, h("tr", {}, ...["Readers", "Cohen's kappa", "weighted (quadratic)", "Raw agreement", "Studies"].map((t) => h("th", {}, t)))),
      h("tbody", {}, ...c.pairs.map((p) => h("tr", {}, h("td", {}, `${p.reader_a} vs ${p.reader_b}`), h("td", { class: "num cohen-kappa" }, fmt(p.cohen_kappa)),
        h("td", { class: "num" }, fmt(p.weighted_kappa)), h("td", { class: "num" }, `${Math.round(p.agreement * 100)} %`), h("td", { class: "num" }, String(p.studies)))))) : null,
    h("table", { class: "worklist", id: "icc-table" },
      h("thead", {}, h("tr", {}, ...["Score", "ICC(2,1)", "ICC(3,1)", "Studies", "Readers"].map((t) => h("th", {}, t)))),
      h("tbody", {}, scoreRow("Brixia (0-18)", a.brixia, "icc-brixia"), scoreRow("RALE (0-8)", a.rale, "icc-rale"))),
    h("details", {}, h("summary", {}, "Readings per study"),
      h("table", { class: "worklist" }, h("thead", {}, h("tr", {}, ...["Study", "Reader", "Category", "Brixia", "RALE"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...a.per_study.flatMap((st) => Object.entries(st.readers).map(([reader, r]) => h("tr", {},
          h("td", {}, st.study_name), h("td", {}, reader), h("td", {}, r.category), h("td", { class: "num" }, r.brixia === null ? "–" : String(r.brixia)),
          h("td", { class: "num" }, r.rale === null ? "–" : String(r.rale)))))))));
}
