// Saving a file the server streams: DownloadFile names it, chunks carry
// it, progress messages (when the stream sends them) report rows done.

/** DownloadMessage is the oneof every download RPC's response shares. */
export type DownloadMessage =
  | { case: "progress"; value: { rowsDone: bigint; rowsTotal: bigint } }
  | { case: "file"; value: { fileName: string; contentType: string } }
  | { case: "chunk"; value: Uint8Array }
  | { case: undefined; value?: undefined };

export interface Saved {
  name: string;
  size: number;
}

/**
 * saveStream collects a download stream into a file the browser saves.
 * onProgress gets rows done and rows total as the server reports them.
 */
export async function saveStream(
  stream: AsyncIterable<{ message: DownloadMessage }>,
  fallbackName: string,
  onProgress?: (done: number, total: number) => void,
): Promise<Saved> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let name = fallbackName;
  let type = "application/octet-stream";
  for await (const m of stream) {
    if (m.message.case === "progress") onProgress?.(Number(m.message.value.rowsDone), Number(m.message.value.rowsTotal));
    else if (m.message.case === "file") {
      name = m.message.value.fileName || name;
      type = m.message.value.contentType || type;
    } else if (m.message.case === "chunk") chunks.push(new Uint8Array(m.message.value));
  }
  const blob = new Blob(chunks, { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name, size: blob.size };
}
