/** Turns a drop (folders included) or a file dialog selection into files with relative paths. */

export interface PathedFile { file: File; path: string }

function readAllEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = () => reader.readEntries((batch) => {
      if (batch.length === 0) resolve(all); else { all.push(...batch); next(); }
    }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, prefix: string, out: PathedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    out.push({ file, path: prefix + entry.name });
  } else if (entry.isDirectory) {
    const children = await readAllEntries((entry as FileSystemDirectoryEntry).createReader());
    for (const c of children) await walk(c, `${prefix}${entry.name}/`, out);
  }
}

/** Collects dropped files; must be called synchronously inside the drop handler. */
export function filesFromDrop(dt: DataTransfer): Promise<PathedFile[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== "file") continue;
    const e = typeof item.webkitGetAsEntry === "function" ? item.webkitGetAsEntry() : null;
    if (e) entries.push(e); else { const f = item.getAsFile(); if (f) loose.push(f); }
  }
  if (entries.length === 0 && loose.length === 0) loose.push(...Array.from(dt.files));
  return (async () => {
    const out: PathedFile[] = [];
    for (const e of entries) await walk(e, "", out);
    for (const f of loose) out.push({ file: f, path: f.webkitRelativePath || f.name });
    return out.filter((p) => !p.path.split("/").some((part) => part.startsWith(".") && part.length > 1));
  })();
}

export function filesFromInput(list: FileList): PathedFile[] {
  return Array.from(list).map((f) => ({ file: f, path: f.webkitRelativePath || f.name }));
}
