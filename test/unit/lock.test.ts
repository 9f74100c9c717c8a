// The data directory lock on a real directory: refused in this process and in another one
// while held (even after a garbage collection), free again after release, all-or-none over
// several directories.

import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataDirLockedError, lockDir, lockDirs, PID_FILE } from "../../src/store/lock.ts";

const LOCK_MODULE = join(import.meta.dir, "../../src/store/lock.ts");
let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "alluse-lock-unit-")));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Tries the lock from another process: "locked" when it got it, else the refusal's message. */
function tryInChild(target: string): string {
  const script = `import { lockDir } from ${JSON.stringify(LOCK_MODULE)};
try { lockDir(${JSON.stringify(target)}); console.log("locked"); } catch (e) { console.log(e.message); }`;
  const r = Bun.spawnSync([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  return r.stdout.toString().trim();
}

test("a held directory is refused in this process and another, with the holder's pid; released, it is free", () => {
  const lock = lockDir(dir);
  expect(readFileSync(join(dir, PID_FILE), "utf8")).toBe(`${process.pid}\n`);
  let refusal: unknown;
  try { lockDir(dir); } catch (e) { refusal = e; }
  expect(refusal).toBeInstanceOf(DataDirLockedError);
  expect((refusal as DataDirLockedError).holderPid).toBe(process.pid);
  expect((refusal as Error).message).toContain(dir);
  expect(tryInChild(dir)).toContain(`pid ${process.pid}`);
  lock.release();
  lock.release();
  expect(existsSync(join(dir, PID_FILE))).toBe(false);
  expect(tryInChild(dir)).toBe("locked");
  lockDir(dir).release();
});

test("a lock nobody references any more is still held after a garbage collection", () => {
  // Dropping the handle must not let the connection's finalizer drop the kernel lock.
  (() => { lockDir(dir); })();
  Bun.gc(true);
  expect(tryInChild(dir)).toContain(`pid ${process.pid}`);
});

test("lockDirs takes all or none", () => {
  const other = join(dir, "other");
  const held = lockDir(other);
  expect(() => lockDirs([dir, other])).toThrow(DataDirLockedError);
  // The first directory was released again when the second was refused.
  lockDir(dir).release();
  held.release();
  const both = lockDirs([dir, other, dir]);
  expect(tryInChild(other)).toContain("in use");
  both.release();
  expect(tryInChild(other)).toBe("locked");
});
