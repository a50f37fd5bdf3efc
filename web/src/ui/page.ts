/** What every page is: it renders into `app` and returns a function that undoes its timers and listeners. */
import type { Session } from "../core/types";

export type Cleanup = () => void;
/** A page for a path with one numeric id (`/studies/7`); pages without one ignore `id`. */
export type Page = (app: HTMLElement, session: Session, id: number) => Promise<Cleanup>;
