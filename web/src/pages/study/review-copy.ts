/** "Edit a copy and approve" (reviewers): `?review_copy_of=<version>` opens that reading for editing; Save stores a review copy. */
import { h } from "../../ui/dom";
import type { StudyContext } from "./context";
import type { StudyHeader } from "./header";

export class ReviewCopy {
  readonly approve = h("input", { type: "checkbox", id: "approve-copy", checked: true });
  readonly bar = h("div", { class: "draft-banner", id: "review-copy-bar" });

  /** When the URL asks for a review copy: loads that version and shows the banner. */
  async startFromUrl(ctx: StudyContext, header: StudyHeader, loadVersion: (vid: number, discard: boolean) => Promise<void>): Promise<void> {
    const askedCopy = Number(new URLSearchParams(location.search).get("review_copy_of"));
    if (!askedCopy) return;
    await loadVersion(askedCopy, true);
    ctx.edit.reviewCopyOf = askedCopy;
    this.bar.append(`Editing a review copy of version ${askedCopy}. Save stores it as your copy. `, h("label", {}, this.approve, " and approve it"), " ",
      h("a", { href: `/studies/${ctx.sid}/review` }, "Back to review"));
    header.el.after(this.bar);
  }

  /** After the copy is saved: back to plain editing. */
  end(ctx: StudyContext): void { ctx.edit.reviewCopyOf = null; this.bar.remove(); }
}
