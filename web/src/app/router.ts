/** The path router: on every navigation it cleans up the old page and renders the new one. */
import type { Session } from "../core/types";
import type { Cleanup } from "../ui/page";
import { navigate } from "../ui/dom";
import { loginPage } from "../pages/login/login-page";
import { FALLBACK, ROUTES } from "./routes";
import { currentSession, setUser } from "./session";
import { topbar } from "./topbar";

let cleanup: Cleanup | null = null;

async function route(): Promise<void> {
  if (cleanup) { cleanup(); cleanup = null; }
  const app = document.getElementById("app")!;
  app.innerHTML = "";
  const path = location.pathname;
  if (path === "/login") { topbar(null); cleanup = loginPage(app, setUser); return; }
  let session: Session;
  try { session = await currentSession(); } catch {
    navigate(`/login?next=${encodeURIComponent(path + location.search)}`); return;
  }
  topbar(session);
  for (const [pattern, page] of ROUTES) {
    const m = path.match(pattern);
    if (m) { cleanup = await page(app, session, Number(m[1])); return; }
  }
  cleanup = await FALLBACK(app, session, 0);
}

export function startRouter(): void {
  window.addEventListener("popstate", () => { void route(); });
  void route();
}
