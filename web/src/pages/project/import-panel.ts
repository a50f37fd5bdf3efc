/** The import panel of the project page: drag-and-drop or choose files/folders, resumable upload, results. */
import { ApiError, type ImportResult } from "../../core/api";
import { h, navigate } from "../../ui/dom";
import { filesFromDrop, filesFromInput, type PathedFile } from "../../io/collect-files";
import { uploadMultipart, uploadResumable, type UploadProgress } from "../../io/resumable-upload";

export function importPanel(pid: number, reload: () => Promise<void>): HTMLElement {
  const bar = h("progress", { max: 1, value: 0, id: "upload-progress", hidden: true });
  const status = h("p", { class: "muted", id: "upload-status", "aria-live": "polite" });
  const results = h("ul", { class: "import-results", id: "import-results" });
  const fileInput = h("input", { type: "file", multiple: true, id: "import-files", accept: ".dcm,.zip,.nii,.gz,application/dicom,*/*", hidden: true });
  const dirInput = h("input", { type: "file", multiple: true, id: "import-folder", hidden: true });
  dirInput.setAttribute("webkitdirectory", "");
  const zone = h("div", { class: "dropzone", id: "dropzone", tabindex: 0, role: "button",
    "aria-label": "Drop DICOM folders, files, .zip or NIfTI here, or press Enter to choose files" },
    h("strong", {}, "Drop DICOM folders, files, .zip archives or NIfTI here"),
    h("div", {}, h("button", { type: "button", onclick: () => fileInput.click() }, "Choose files…"), " ",
      h("button", { type: "button", onclick: () => dirInput.click() }, "Choose a folder…")));
  let busy = false;

  const run = async (files: PathedFile[]) => {
    if (busy || files.length === 0) return;
    busy = true; results.innerHTML = ""; bar.hidden = false; bar.value = 0; zone.classList.add("busy");
    const t0 = performance.now();
    const onProgress = (p: UploadProgress) => {
      bar.value = p.total ? p.sent / p.total : 1;
      status.textContent = `${p.retrying ? "Connection lost, resuming… " : "Uploading "}${(p.sent / 1e6).toFixed(1)} of ${(p.total / 1e6).toFixed(1)} MB (${files.length} files)`;
    };
    try {
      let res: ImportResult[];
      try { res = await uploadResumable(pid, files, onProgress); } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 405)) res = await uploadMultipart(pid, files, onProgress);
        else throw e;
      }
      bar.value = 1;
      status.textContent = `Import finished in ${((performance.now() - t0) / 1000).toFixed(1)} s.`;
      for (const r of res) {
        results.append(h("li", { class: `result ${r.status}`, "data-status": r.status },
          h("span", { class: `badge ${r.status}` }, r.status), " ",
          r.study_id && r.status !== "refused" ? h("a", { href: `/studies/${r.study_id}`, onclick: (e: Event) => { e.preventDefault(); navigate(`/studies/${r.study_id}`); } }, r.name) : h("span", {}, r.name),
          r.reason ? h("span", { class: "reason" }, ` — ${r.reason}`) : null,
          ...(r.warnings || []).map((w) => h("div", { class: "warning" }, `⚠ ${w}`))));
      }
      await reload();
    } catch (e) {
      status.textContent = "";
      results.append(h("li", { class: "result refused", "data-status": "refused" }, h("span", { class: "badge refused" }, "refused"), ` Upload refused: ${(e as Error).message}`));
    } finally { busy = false; zone.classList.remove("busy"); }
  };

  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault(); zone.classList.remove("over");
    if (e.dataTransfer) filesFromDrop(e.dataTransfer).then(run);
  });
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.target === zone) fileInput.click(); });
  fileInput.addEventListener("change", () => { if (fileInput.files) run(filesFromInput(fileInput.files)); fileInput.value = ""; });
  dirInput.addEventListener("change", () => { if (dirInput.files) run(filesFromInput(dirInput.files)); dirInput.value = ""; });
  return h("section", { class: "card" }, h("h2", {}, "Import studies"), zone, fileInput, dirInput, bar, status, results);
}
