/** The signed-in user of this tab: asked from the server once, dropped on log-out. */
import * as api from "../core/api";
import type { Session, UserPublic } from "../core/types";

let current: Session | null = null;

export function setUser(user: UserPublic): void { current = { user }; }

/** The session, asking the server (`/auth/me`) when none is known; throws when not signed in. */
export async function currentSession(): Promise<Session> {
  // no CSRF cookie: no session either, so do not ask (a 401 would be logged in the console)
  if (!current && !/(?:^|;\s*)lunglab_csrf=/.test(document.cookie)) throw new Error("not signed in");
  if (!current) current = { user: await api.me() };
  return current;
}

export async function logOut(): Promise<void> {
  await api.logout().catch(() => null);
  current = null;
}
