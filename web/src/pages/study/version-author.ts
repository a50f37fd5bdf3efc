/** Who made a version, in words a reader understands (the AI and its model, a user, "you, in another tab"). */
import type { VersionPublic } from "../../core/types";

export function madeBy(v: Pick<VersionPublic, "kind" | "author" | "model_name" | "message">, me: string): string {
  if (v.kind === "ai") return v.model_name ? `the AI (${v.model_name})` : "the AI";
  if (v.kind === "consensus") return v.author ? `${v.author} (consensus)` : "a consensus of the readers";
  if (v.kind === "imported") return v.author ? `${v.author} (imported)` : "an import";
  if (v.author && v.author === me) return "you, in another tab";
  if (v.author) return (v.message ?? "").startsWith("review copy") ? `reviewer ${v.author}` : v.author;
  return "someone else";
}
