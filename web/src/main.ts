/** LungLab web client entry: session, top bar, and the path router. */
import "./style.css";
import { api, type UserPublic } from "./core/api";
import { h, navigate } from "./dom";
import { loginPage } from "./pages/login";
import { homePage, projectPage } from "./pages/project";
import { studyPage } from "./pages/study";
import { boardPage, dashboardPage, reviewPage } from "./pages/collab";
import { modelsPage, queuePage, runRedirect, trainingJobPage } from "./pages/training";

export interface Session { user: UserPublic }
let current: Session | null = null;
let cleanup: (() => void) | null = null;

function topbar(s: Session | null): void {
  const bar = document.getElementById("topbar")!;
  bar.innerHTML = "";
  bar.append(h("a", { href: "/", class: "brand", onclick: (e: Event) => { e.preventDefault(); navigate("/"); } }, "LungLab"));
  if (s) {
    bar.append(h("span", { class: "spacer" }),
      h("span", { class: "who" }, `${s.user.username}${s.user.is_admin ? " (admin)" : ""}`),
      h("button", { class: "link", onclick: async () => { await api.logout().catch(() => null); current = null; navigate("/login"); } }, "Log out"));
  }
}

async function route(): Promise<void> {
  if (cleanup) { cleanup(); cleanup = null; }
  const app = document.getElementById("app")!;
  app.innerHTML = "";
  const path = location.pathname;
  if (path === "/login") { topbar(null); cleanup = loginPage(app, (u) => { current = { user: u }; }); return; }
  if (!current) {
    try { current = { user: await api.me() }; } catch {
      navigate(`/login?next=${encodeURIComponent(path + location.search)}`); return;
    }
  }
  topbar(current);
  let m: RegExpMatchArray | null;
  if ((m = path.match(/^\/studies\/(\d+)\/review/))) cleanup = await reviewPage(app, current, Number(m[1]));
  else if ((m = path.match(/^\/projects\/(\d+)\/board/))) cleanup = await boardPage(app, current, Number(m[1]));
  else if ((m = path.match(/^\/projects\/(\d+)\/agreement/))) cleanup = await dashboardPage(app, current, Number(m[1]));
  else if ((m = path.match(/^\/projects\/(\d+)\/models/))) cleanup = await modelsPage(app, current, Number(m[1]));
  else if ((m = path.match(/^\/training\/jobs\/(\d+)/))) cleanup = await trainingJobPage(app, current, Number(m[1]));
  else if ((m = path.match(/^\/training\/runs\/(\d+)/))) cleanup = await runRedirect(app, current, Number(m[1]));
  else if (path === "/queue") cleanup = await queuePage(app);
  else if ((m = path.match(/^\/studies\/(\d+)/))) cleanup = await studyPage(app, current, Number(m[1]));
  else if ((m = path.match(/^\/projects\/(\d+)/))) cleanup = await projectPage(app, current, Number(m[1]));
  else cleanup = await homePage(app, current);
}

window.addEventListener("popstate", () => { void route(); });
void route();
