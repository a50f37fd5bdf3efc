/**
 * Project downloads (project admins): the dataset (nnU-Net / Decathlon zip) and the summary CSV,
 * with progress: the server prepares the file first (elapsed seconds shown), then the bytes arrive.
 */
import * as api from "../../core/api";
import { h } from "../../ui/dom";

type Fetcher = (pid: number, onBytes: (received: number, total: number | null) => void) => Promise<{ blob: Blob; filename: string | null }>;

function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function projectExports(pid: number): HTMLElement {
  const status = h("span", { class: "progress-line muted", id: "export-status", "aria-live": "polite" });
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const run = (btn: HTMLButtonElement, what: string, fetcher: Fetcher, fallback: string) => async () => {
    btn.disabled = true;
    const t0 = performance.now();
    let got = 0;
    const tick = window.setInterval(() => { if (got === 0) status.textContent = `${what}: the server is preparing it… ${Math.round((performance.now() - t0) / 1000)} s`; }, 500);
    status.className = "progress-line muted"; status.textContent = `${what}: the server is preparing it…`;
    try {
      const { blob, filename } = await fetcher(pid, (n, total) => {
        got = n; status.textContent = `${what}: downloading ${mb(n)} MB${total ? ` of ${mb(total)} MB (${Math.round((100 * n) / total)} %)` : ""}`;
      });
      saveBlob(blob, filename ?? fallback);
      status.className = "progress-line ok"; status.textContent = `${what}: saved ${filename ?? fallback} (${mb(blob.size)} MB, ${((performance.now() - t0) / 1000).toFixed(1)} s).`;
    } catch (e) {
      status.className = "progress-line error"; status.textContent = `${what} failed: ${(e as Error).message}`;
    } finally { clearInterval(tick); btn.disabled = false; }
  };
  const datasetBtn = h("button", { type: "button", id: "export-dataset", title: "nnU-Net / Decathlon layout with the frozen split, as a zip" }, "Export dataset (zip)");
  const csvBtn = h("button", { type: "button", id: "export-summary-csv", title: "One row of figures per study" }, "Summary CSV");
  datasetBtn.addEventListener("click", run(datasetBtn, "Dataset export", api.datasetExport, `lunglab-project${pid}-dataset.zip`));
  csvBtn.addEventListener("click", run(csvBtn, "Summary CSV", api.summaryCsv, `lunglab-project${pid}-summary.csv`));
  return h("section", { class: "card", id: "project-exports" }, h("h2", {}, "Exports"),
    h("div", { class: "bulk-ai" }, datasetBtn, csvBtn, h("a", { href: api.summaryHtmlUrl(pid), target: "_blank", rel: "noopener", id: "summary-html" }, "Summary with charts (HTML)")),
    status);
}
