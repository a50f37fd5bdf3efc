/** The reader's assignment on the study page: start on open, active-time heartbeats, Submit for review, comments and reply. */
import * as api from "../../core/api";
import type { AssignmentDetail, AssignmentOut } from "../../core/types";
import { h, link } from "../../ui/dom";
import { isDirty, type StudyContext } from "./context";

const EDITABLE = ["assigned", "in_progress", "returned"];
const INPUT_EVENTS = ["pointermove", "pointerdown", "keydown", "wheel"];

/** Builds the panel into `box` and starts the heartbeats; returns the function that stops them. */
export async function assignmentPanel(ctx: StudyContext, box: HTMLElement, save: () => Promise<void>): Promise<() => void> {
  const { sid, viewer, labels, edit, dbg } = ctx;
  const replyIn = h("input", { id: "reply-text", placeholder: "Reply to the reviewer", "aria-label": "Reply to the reviewer" });
  let assignment: AssignmentDetail | null = null;
  let canReview = ctx.session.user.is_admin;
  // active time: counted while the tab is visible and focused and there was input in the last 30 s
  let lastInput = performance.now(), activeMs = 0, lastTick = performance.now();
  const markActive = () => { lastInput = performance.now(); };
  for (const ev of INPUT_EVENTS) document.addEventListener(ev, markActive, { passive: true });
  const ticker = window.setInterval(() => {
    const now = performance.now();
    if (assignment && !document.hidden && document.hasFocus() && now - lastInput < 30000) activeMs += now - lastTick;
    lastTick = now;
  }, 1000);
  const sendHeartbeat = async () => {
    if (!assignment || !EDITABLE.includes(assignment.state) || activeMs < 1000) return;
    const seconds = Math.round(activeMs / 1000); activeMs -= seconds * 1000;
    try {
      const r = await api.heartbeat(assignment.id, seconds);
      assignment.active_seconds = r.active_seconds; dbg.activeSeconds = r.active_seconds; render();
    } catch { /* submitted meanwhile or offline: drop this beat */ }
  };
  const heartbeat = window.setInterval(() => void sendHeartbeat(), 30000);
  const onHidden = () => { if (document.hidden) void sendHeartbeat(); };
  document.addEventListener("visibilitychange", onHidden);
  dbg.heartbeat = sendHeartbeat;

  function render(): void {
    box.innerHTML = "";
    if (!assignment) { if (canReview) renderSolo(); return; }
    const a = assignment;
    const editable = EDITABLE.includes(a.state);
    box.append(h("h2", {}, "My assignment"),
      h("div", {}, h("span", { class: `badge st-${a.state}`, id: "assignment-state" }, a.state.replace("_", " ")),
        ` · active ${Math.round(a.active_seconds / 60)} min · started from ${a.start_from ?? "—"}`),
      editable ? h("button", { class: "primary", id: "submit-assignment", onclick: () => void submit() }, "Submit for review") :
        h("div", { class: "muted" }, a.state === "submitted" ? `Submitted version ${a.submitted_version_id}; frozen until a reviewer decides.` : "Approved."),
      h("ul", { class: "comments", id: "assignment-comments" },
        ...a.decisions.map((d) => h("li", { class: `decision ${d.decision}` }, h("span", { class: `badge st-${d.decision === "approve" ? "approved" : "returned"}` }, d.decision === "approve" ? "approved" : "returned"),
          ` by ${d.reviewer}${d.comment ? `: ${d.comment}` : ""}`)),
        ...a.comments.map((c) => h("li", { class: "comment" }, h("strong", {}, c.author), `: ${c.text}`,
          c.slice_index !== null ? h("button", { class: "link", onclick: () => { const v = viewer.view("axial"); if (v) { viewer.scroll(v, c.slice_index! - viewer.cursor[2]); } } }, ` → slice ${viewer.sliceNumber("axial", c.slice_index!)}${c.position ? ` (${c.position.join(", ")})` : ""}`) : null))),
      a.comments.length || a.decisions.length ? h("div", { class: "reply" }, replyIn, h("button", { id: "reply-btn", onclick: async () => {
        if (!replyIn.value.trim()) return;
        try {
          await api.addComment(sid, replyIn.value.trim(), a.id);
          replyIn.value = ""; assignment = await api.assignment(a.id); render();
        } catch (e) { ctx.say((e as Error).message); }
      } }, "Reply")) : "");
  }
  /** An admin or reviewer without an assignment reads the study alone: submit, then approve on the review page. */
  function renderSolo(): void {
    box.append(h("h2", {}, "My reading"),
      h("p", { class: "muted", id: "solo-hint" }, "Working alone? Save your label map, submit it, then approve it on the review page (recorded as read and reviewed by the same person)."),
      h("button", { class: "primary", id: "submit-assignment", onclick: () => void submitSolo() }, "Submit for review"));
  }
  async function submitSolo(): Promise<void> {
    if (isDirty(ctx) || edit.baseVersionId === null) await save();
    try {
      const a = await api.submitOwnReading(sid);
      assignment = await api.assignment(a.id); dbg.assignment = assignment; render();
      box.append(h("p", {}, link(`/studies/${sid}/review`, "Review and approve it →")));
      ctx.say("Submitted for review.");
    } catch (e) { ctx.say(`Submit failed: ${(e as Error).message}`); }
  }
  async function submit(): Promise<void> {
    if (!assignment) return;
    if (isDirty(ctx) || edit.baseVersionId === null) await save();
    try {
      const a = await api.submitAssignment(assignment.id);
      assignment = { ...assignment, ...a }; ctx.say("Submitted for review."); render();
    } catch (e) { ctx.say(`Submit failed: ${(e as Error).message}`); }
  }
  try {
    const mine = (await api.myAssignments()).data.filter((a) => a.study_id === sid);
    const open = mine.find((a) => a.state !== "approved") ?? mine[0];
    if (open) {
      let a: AssignmentOut = open;
      const fresh = a.state === "assigned";
      if (fresh) a = await api.startAssignment(a.id);
      assignment = await api.assignment(a.id);
      dbg.assignment = assignment;
      if (fresh && assignment.start_from === "empty" && labels.counts.some((n, i) => i > 0 && n > 0)) {
        labels.replace(new Uint8Array(labels.data.length)); edit.baseData = null; edit.savedRevision = labels.revision;
        ctx.say("Starting from an empty label map (project setting)."); ctx.sync();
      }
      render();
    } else {
      if (!canReview) { const p = await api.project((await api.study(sid)).project_id); canReview = p.my_role === "admin" || p.my_role === "reviewer"; }
      render();
    }
  } catch { /* no assignments API or none: plain editing */ }
  return () => {
    void sendHeartbeat();
    for (const ev of INPUT_EVENTS) document.removeEventListener(ev, markActive);
    document.removeEventListener("visibilitychange", onHidden);
    clearInterval(ticker); clearInterval(heartbeat);
  };
}
