/** Modal dialogs: append a <dialog> to the body, show it, and remove it when closed. */

/** Shows `dlg` modally; returns the function that closes and removes it. */
export function showModal(dlg: HTMLDialogElement): () => void {
  document.body.append(dlg);
  dlg.showModal();
  return () => { dlg.close(); dlg.remove(); };
}
