/** Home: the projects the user is a member of (straight to the project when there is one). */
import * as api from "../../core/api";
import type { Session } from "../../core/types";
import { h, navigate } from "../../ui/dom";
import type { Cleanup } from "../../ui/page";

export async function homePage(app: HTMLElement, _s: Session): Promise<Cleanup> {
  const { data } = await api.projects();
  if (data.length === 1) { navigate(`/projects/${data[0].id}`); return () => {}; }
  app.append(h("section", { class: "card" }, h("h1", {}, "Projects"),
    data.length === 0 ? h("p", {}, "You are not a member of any project yet.") : h("ul", { class: "projects" },
      ...data.map((p) => h("li", {}, h("a", { href: `/projects/${p.id}`, onclick: (e: Event) => { e.preventDefault(); navigate(`/projects/${p.id}`); } }, p.name))))));
  return () => {};
}
