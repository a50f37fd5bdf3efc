/**
 * "Run AI": queues the `ai-segment` job for the open study and shows its place in the queue,
 * its progress and its end (or a clear error). A job already queued or running for the study
 * when the page opens is followed too. When the job ends, `onDone` lets the page look for the
 * new proposal at once. Used by the CT study page and the radiograph page.
 */
import * as api from "../../core/api";
import type { JobPublic } from "../../core/types";
import { h } from "../../ui/dom";

/** What the action needs of the page: the study, and a debug record for the browser tests. */
export interface AiTarget { sid: number; dbg: Record<string, unknown> }

const POLL_MS = 1500;

export interface RunAi { el: HTMLElement; stop(): void }

/** Where a queued job waits: its 1-based position in its queue, or null when not listed. */
async function queuePosition(jobId: number): Promise<number | null> {
  const q = await api.queue();
  for (const jobs of Object.values(q.queues)) {
    const j = jobs.find((x) => x.id === jobId);
    if (j) return j.position ?? jobs.indexOf(j) + 1;
  }
  return null;
}

export function runAiAction(ctx: AiTarget, onDone: (job: JobPublic) => void, title = "Queue the AI pre-segmentation (lung, GGO, consolidation) for this study"): RunAi {
  const status = h("span", { class: "muted ai-job", id: "ai-job-status", "aria-live": "polite" });
  const btn = h("button", { type: "button", id: "run-ai", title }, "Run AI");
  let timer = 0, stopped = false;
  const show = (text: string, kind: "muted" | "error" | "ok" = "muted") => { status.textContent = text; status.className = `ai-job ${kind}`; };

  const follow = async (job: JobPublic): Promise<void> => {
    if (stopped) return;
    ctx.dbg.aiJob = { id: job.id, state: job.state, progress: job.progress };
    if (job.state === "queued") {
      const pos = await queuePosition(job.id).catch(() => null);
      show(pos ? `AI queued: position ${pos} in the queue` : "AI queued…");
    } else if (job.state === "running") {
      show(`AI running: ${Math.round((job.progress ?? 0) * 100)} %${job.message ? ` (${job.message})` : ""}`);
    } else if (job.state === "succeeded") {
      btn.disabled = false; show("AI proposal saved.", "ok"); onDone(job); return;
    } else {
      btn.disabled = false;
      show(job.state === "cancelled" ? "AI job cancelled." : `AI failed: ${job.message || "no reason given"}. Try again, or see the queue page.`, "error");
      return;
    }
    btn.disabled = true;
    timer = window.setTimeout(() => {
      api.job(job.id).then(follow).catch((e) => { btn.disabled = false; show(`AI status unknown: ${(e as Error).message}`, "error"); });
    }, POLL_MS);
  };

  btn.addEventListener("click", async () => {
    btn.disabled = true; show("Queueing the AI job…");
    try { await follow(await api.runAi(ctx.sid)); } catch (e) {
      btn.disabled = false;
      const err = e as api.ApiError;
      show(err.status === 403 ? "You may not run the AI on this study." : `Could not start the AI: ${err.message}`, "error");
    }
  });
  // a job started before this page opened (another tab, the worklist, import)
  api.studyJobs(ctx.sid).then((r) => {
    const j = r.data.find((x) => x.kind === "ai-segment" && (x.state === "queued" || x.state === "running"));
    if (j) void follow(j);
  }).catch(() => null);

  return { el: h("span", { class: "run-ai" }, btn, " ", status), stop: () => { stopped = true; clearTimeout(timer); } };
}
