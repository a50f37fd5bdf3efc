/**
 * "Results": every result of the open study one click away: the report (HTML, PDF), its figures,
 * change over time against an earlier study of the same patient, and exports (label map as NIfTI
 * or DICOM SEG, the CT as NIfTI or DICOM). Exports of the version on screen; downloads are for
 * project admins (the server refuses others), so readers see the reason instead of a link.
 */
import * as api from "../../core/api";
import { h } from "../../ui/dom";
import type { StudyContext } from "./context";

type Item = { label: string; href: string | null; id: string; why?: string; download?: boolean };

export function resultsMenu(ctx: StudyContext, canDownload: () => boolean): HTMLElement {
  const list = h("div", { class: "menu-items", id: "results-items" });
  const menu = h("details", { class: "menu", id: "results-menu" }, h("summary", { title: "Report, figures, change over time and exports" }, "Results"), list);
  const render = (related: { id: number; name: string }[] | null) => {
    const vid = ctx.edit.baseVersionId, sid = ctx.sid, admin = canDownload();
    const noVersion = "save or load a version first";
    const adminOnly = "downloads are for project admins";
    const items: Item[] = [
      { label: "Report (HTML)", href: vid ? api.reportHtmlUrl(sid) : null, id: "res-report-html", why: noVersion },
      { label: "Report (PDF)", href: vid && admin ? api.reportPdfUrl(sid) : null, id: "res-report-pdf", why: vid ? adminOnly : noVersion, download: true },
      { label: "Figures (volumes, involvement, score; JSON)", href: vid ? api.quantificationUrl(sid) : null, id: "res-figures", why: noVersion },
      { label: `Label map v${vid ?? "?"} as NIfTI`, href: vid && admin ? api.labelsNiftiExportUrl(vid) : null, id: "res-labels-nifti", why: vid ? adminOnly : noVersion, download: true },
      { label: `Label map v${vid ?? "?"} as DICOM SEG`, href: vid && admin ? api.segExportUrl(vid) : null, id: "res-seg", why: vid ? adminOnly : noVersion, download: true },
      { label: "CT as NIfTI", href: admin ? api.ctNiftiExportUrl(sid) : null, id: "res-ct-nifti", why: adminOnly, download: true },
      { label: `CT as DICOM (zip${vid ? `, with the SEG of v${vid}` : ""})`, href: admin ? api.ctDicomExportUrl(sid, vid) : null, id: "res-ct-dicom", why: adminOnly, download: true },
    ];
    list.innerHTML = "";
    for (const it of items) {
      list.append(it.href
        ? h("a", { href: it.href, id: it.id, target: it.download ? null : "_blank", rel: "noopener", download: it.download ? "" : null }, it.label)
        : h("span", { class: "muted", id: it.id, title: it.why ?? "" }, `${it.label} (${it.why})`));
    }
    list.append(h("strong", {}, "Change over time"));
    if (related === null) list.append(h("span", { class: "muted", id: "res-change-none" }, "looking for earlier studies…"));
    else if (!vid) list.append(h("span", { class: "muted", id: "res-change-none" }, `none (${noVersion})`));
    else if (related.length === 0) list.append(h("span", { class: "muted", id: "res-change-none" }, "none: no other study of this patient in the project"));
    else for (const r of related) list.append(h("a", { href: api.reportHtmlUrl(sid, r.id), target: "_blank", rel: "noopener", class: "res-change" }, `against ${r.name} (report)`));
  };
  menu.addEventListener("toggle", () => {
    if (!menu.open) return;
    render(null);
    if (!ctx.edit.baseVersionId) { render([]); return; }
    api.quantification(ctx.sid).then((q) => render(q.related_studies ?? [])).catch(() => render([]));
  });
  return menu;
}
