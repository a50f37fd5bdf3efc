/** Log-in form. */
import * as api from "../../core/api";
import { ApiError, type UserPublic } from "../../core/api";
import { h, navigate } from "../../ui/dom";

export function loginPage(app: HTMLElement, onLogin: (u: UserPublic) => void): () => void {
  const err = h("p", { class: "error", role: "alert" });
  const user = h("input", { name: "username", id: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { name: "password", id: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "card login" },
    h("h1", {}, "Sign in to LungLab"),
    h("label", { for: "username" }, "User name"), user,
    h("label", { for: "password" }, "Password"), pass,
    h("button", { type: "submit", class: "primary" }, "Sign in"), err);
  form.addEventListener("submit", async (e) => {
    e.preventDefault(); err.textContent = "";
    try {
      const u = await api.login(user.value, pass.value);
      onLogin(u);
      const next = new URLSearchParams(location.search).get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
    } catch (ex) {
      err.textContent = ex instanceof ApiError && ex.status === 401 ? "Wrong user name or password."
        : ex instanceof ApiError && ex.status === 429 ? "Too many failed attempts; wait a moment." : String((ex as Error).message);
    }
  });
  app.append(form);
  user.focus();
  return () => {};
}
