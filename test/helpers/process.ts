// Reading the stdout of a child process (the server, the simulator CLI) line by line, for tests
// and the benchmark drivers that run them as real processes.

/** Reads lines from `stream` until one satisfies `match`; rejects after `timeoutMs` or at its end. */
export async function readLineMatching(stream: ReadableStream<Uint8Array>, match: (line: string) => boolean, timeoutMs: number): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now()));
      const chunk = await Promise.race([reader.read(), timer]);
      if (chunk === null || chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      const hit = lines.find(match);
      if (hit !== undefined) return hit;
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error(`no matching line within ${timeoutMs} ms`);
}

/** Collects every line of `stream` into the returned array as it arrives. */
export function collectLines(stream: ReadableStream<Uint8Array>): string[] {
  const out: string[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      out.push(...parts);
    }
  })();
  return out;
}
