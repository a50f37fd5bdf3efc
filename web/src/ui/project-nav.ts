/** The navigation bar of a project's pages (worklist, board, agreement, models, queue). */
import * as api from "../core/api";
import type { ProjectPublic, Session } from "../core/types";
import { h, link } from "./dom";

export function projectNav(pid: number, project: ProjectPublic, s: Session, current: string): HTMLElement {
  const admin = s.user.is_admin || project.my_role === "admin";
  const reviewer = admin || project.my_role === "reviewer";
  const items: [string, string, boolean][] = [
    [`/projects/${pid}`, "Worklist", true], [`/projects/${pid}/board`, "Assignment board", admin],
    [`/projects/${pid}/agreement`, "Agreement", reviewer], [`/projects/${pid}/models`, "Models", reviewer],
    ["/queue", "Queue", true],
  ];
  const audit = s.user.is_admin ? h("a", { href: api.auditExportUrl(), download: "", id: "audit-export" }, "Audit log (CSV)") : null;
  return h("nav", { class: "subnav" }, h("strong", {}, project.name), ...items.filter((i) => i[2]).map(([href, text]) =>
    link(href, text, { class: href === current ? "current" : "" })), audit);
}
