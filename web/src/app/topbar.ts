/** The top bar: brand link, the signed-in user and Log out. */
import type { Session } from "../core/types";
import { h, navigate } from "../ui/dom";
import { logOut } from "./session";

export function topbar(s: Session | null): void {
  const bar = document.getElementById("topbar")!;
  bar.innerHTML = "";
  bar.append(h("a", { href: "/", class: "brand", onclick: (e: Event) => { e.preventDefault(); navigate("/"); } }, "LungLab"));
  if (s) {
    bar.append(h("span", { class: "spacer" }),
      h("span", { class: "who" }, `${s.user.username}${s.user.is_admin ? " (admin)" : ""}`),
      h("button", { class: "link", onclick: async () => { await logOut(); navigate("/login"); } }, "Log out"));
  }
}
