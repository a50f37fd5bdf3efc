/** Tiny DOM helpers (no framework). */
type Attrs = Record<string, string | number | boolean | ((e: Event) => void) | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...kids: (Node | string | null | undefined | false)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, "").toLowerCase(), v as EventListener);
    else if (k === "class") el.className = String(v);
    else if (k in el && typeof v !== "string") (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of kids) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso.endsWith("Z") || iso.includes("+") ? iso : iso + "Z");
  return isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function navigate(path: string): void {
  history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** An in-app link: navigates without reloading the page. */
export const link = (href: string, text: string, attrs: Record<string, string> = {}) =>
  h("a", { href, ...attrs, onclick: (e: Event) => { e.preventDefault(); navigate(href); } }, text);

/** Sets a status line's text; `err` shows it as an error. */
export function sayIn(el: HTMLElement): (t: string, err?: boolean) => void {
  return (t, err = false) => { el.textContent = t; el.className = err ? "error" : "msg"; };
}

/** An error card for a page that could not load. */
export const errorCard = (e: unknown) => h("div", { class: "card error", role: "alert" }, (e as Error).message);
