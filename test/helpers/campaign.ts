// Runs a campaign in this process and reads its one figure line (`campaign <name>: k=v …`) from
// what it prints, for the campaign tests.

/** The campaign's exit code and its figure line as key → value. */
export async function captureFigure(name: string, go: () => Promise<number>): Promise<{ code: number; figure: Record<string, string> }> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...parts: unknown[]) => void lines.push(parts.map(String).join(" "));
  let code: number;
  try {
    code = await go();
  } finally {
    console.log = original;
  }
  const line = lines.find((l) => l.startsWith(`campaign ${name}: `));
  if (!line) throw new Error(`no figure line among ${JSON.stringify(lines)}`);
  console.log(line);
  const figure: Record<string, string> = {};
  for (const kv of line.slice(`campaign ${name}: `.length).split(" ")) {
    const at = kv.indexOf("=");
    figure[kv.slice(0, at)] = kv.slice(at + 1);
  }
  return { code, figure };
}
