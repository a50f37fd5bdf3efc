/**
 * The study header: name, geometry, the base version, status messages and Save. Page actions
 * (Review link today; Run AI, report and export links later) are added with `addAction`.
 */
import type { StudyPublic } from "../../core/types";
import type { Geometry } from "../../core/volume";
import { h } from "../../ui/dom";

export interface StudyHeader {
  el: HTMLElement;
  saveBtn: HTMLButtonElement;
  baseInfo: HTMLElement;
  say(text: string): void;
  /** Adds a link or button: "left" after the study's facts, "right" next to Save. */
  addAction(el: HTMLElement, side?: "left" | "right"): void;
}

export function studyHeader(study: StudyPublic, g: Geometry): StudyHeader {
  const msg = h("span", { class: "msg", id: "study-msg", "aria-live": "polite" });
  const saveBtn = h("button", { class: "primary", id: "save", title: "Save a new version (Ctrl+S)" }, "Save");
  const baseInfo = h("span", { class: "muted", id: "base-info" });
  const spacer = h("span", { class: "spacer" });
  const el = h("div", { class: "study-header" }, h("h1", {}, study.name),
    h("span", { class: "muted" }, `${g.nx}×${g.ny}×${g.nz} · ${g.sx.toFixed(2)}×${g.sy.toFixed(2)}×${g.sz.toFixed(2)} mm · AI ${study.ai_status}`),
    baseInfo, spacer, msg, saveBtn);
  return {
    el, saveBtn, baseInfo,
    say: (t) => { msg.textContent = t; },
    addAction: (a, side = "right") => { (side === "left" ? spacer : msg).before(a); },
  };
}
