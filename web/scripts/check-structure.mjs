// Structure checks run by `npm run build` (import cycles are madge's job: `npm run check:cycles`).
// Fails (exit 1) when:
//   - a page imports another page (pages/<a>/ -> pages/<b>/): shared code goes to ui/, core/ or features/;
//   - a folder imports one it may not (see ALLOWED: the arrows point one way, towards core/);
//   - a .ts file outside core/ spells an /api/ URL: every HTTP call goes through core/api.ts;
//   - a module has more than MAX_LINES lines.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const MAX_LINES = 400;
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src");
/** Which top-level folders of src/ each folder may import from (itself is always allowed). */
const ALLOWED = {
  "main.ts": ["app", "style.css"],
  app: ["core", "ui", "pages"],
  pages: ["core", "ui", "features", "views", "tools", "io"],
  features: ["core", "ui"],
  views: ["core", "tools"],
  io: ["core"],
  tools: ["core"],
  ui: ["core"],
  core: [],
};

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|mts|mjs|js)$/.test(n) ? [p] : [];
  });
}

const stripComments = (src) => src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\w])\/\/.*$/gm, "$1");
const IMPORT_RE = /(?:\bimport|\bexport)\s[^"'`;]*?from\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\bimport\s*["']([^"']+)["']/g;
const parts = (file) => relative(root, file).split(sep);
const folderOf = (file) => parts(file)[0];
const pageOf = (file) => (parts(file)[0] === "pages" && parts(file).length > 2 ? parts(file)[1] : null);

const errors = [];
for (const file of walk(root)) {
  const rel = relative(root, file);
  const src = readFileSync(file, "utf8");
  const lines = src.split("\n").length - (src.endsWith("\n") ? 1 : 0);
  if (lines > MAX_LINES) errors.push(`${rel}: ${lines} lines (at most ${MAX_LINES}): split it by idea`);
  const code = stripComments(src);
  if (folderOf(file) !== "core" && /\.m?ts$/.test(file) && code.includes("/api/"))
    errors.push(`${rel}: spells an /api/ URL; add a typed function to core/api.ts and call that`);
  for (const m of code.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith(".")) continue; // a package
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(root + sep)) { errors.push(`${rel}: imports ${spec}, outside src/`); continue; }
    const from = folderOf(file), to = folderOf(target);
    const pa = pageOf(file), pb = pageOf(target);
    if (from === "pages" && to === "pages" && pa !== pb)
      errors.push(`${rel}: page "${pa}" imports page "${pb}" (${spec}); move what they share to ui/, core/ or features/`);
    else if (from !== to && !(ALLOWED[from] ?? []).includes(to))
      errors.push(`${rel}: ${from}/ may not import ${to}/ (${spec}); allowed: ${(ALLOWED[from] ?? []).join(", ") || "nothing outside itself"}`);
  }
}
if (errors.length) {
  console.error(`check-structure: ${errors.length} problem(s)\n  ` + errors.join("\n  "));
  process.exit(1);
}
console.log("check-structure: ok (pages independent, imports point towards core/, /api/ only in core/, modules <= 400 lines)");
