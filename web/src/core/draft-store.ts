/** Local autosave of label drafts in IndexedDB, keyed by user and study. */

export interface Draft { key: string; baseVersionId: number | null; savedAt: number; labels: Blob; revision: number }

function open(): Promise<IDBDatabase> {
  return new Promise((res, rej) => {
    const r = indexedDB.open("lunglab", 1);
    r.onupgradeneeded = () => r.result.createObjectStore("drafts", { keyPath: "key" });
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
}

async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  return new Promise((res, rej) => {
    const t = db.transaction("drafts", mode);
    const req = fn(t.objectStore("drafts"));
    t.oncomplete = () => { db.close(); res(req.result); };
    t.onerror = () => { db.close(); rej(t.error); };
  });
}

export const draftKey = (user: string, sid: number) => `${user}:${sid}`;
export const saveDraft = (d: Draft) => tx("readwrite", (s) => s.put(d));
export const loadDraft = (key: string) => tx<Draft | undefined>("readonly", (s) => s.get(key));
export const deleteDraft = (key: string) => tx("readwrite", (s) => s.delete(key));
