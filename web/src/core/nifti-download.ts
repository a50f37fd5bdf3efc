/** Downloads a NIfTI (gzip or not) through `request` and parses it. */
import { request } from "./http";
import { maybeGunzip, parseNifti } from "./nifti";

export type Nifti = ReturnType<typeof parseNifti>;

/**
 * Gzip is inflated while it downloads (streamed through the browser's DecompressionStream), so
 * transfer and inflation overlap. `t` receives `downloadAndInflate` and `parse` in ms.
 */
export async function downloadNifti(path: string, onBytes?: (n: number) => void, t?: Record<string, number>): Promise<Nifti> {
  const t0 = performance.now();
  const res = await request("GET", path);
  let raw: ArrayBuffer;
  if (res.body) {
    const reader = res.body.getReader();
    const first = await reader.read();
    const head = first.value ?? new Uint8Array(0);
    const gz = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    let n = head.length;
    const stream = new ReadableStream<Uint8Array>({
      start(c) { if (head.length) c.enqueue(head); if (first.done) c.close(); },
      async pull(c) {
        const { done, value } = await reader.read();
        if (done) { c.close(); return; }
        n += value.length; onBytes?.(n); c.enqueue(value);
      },
    });
    const body = gz ? stream.pipeThrough(new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>) : stream;
    raw = await new Response(body as ReadableStream<Uint8Array>).arrayBuffer();
  } else raw = await maybeGunzip(await res.arrayBuffer());
  const t1 = performance.now();
  const out = parseNifti(raw);
  if (t) { t.downloadAndInflate = t1 - t0; t.parse = performance.now() - t1; }
  return out;
}
