// Parts of an API key "ak_<id>_<secret>" for tests that look for them elsewhere.

/**
 * The 43-character secret of a key. Its alphabet (base64url) includes "_", so
 * `key.split("_")[2]` gives a prefix of it, or "" when it starts with "_" (one key in 64).
 */
export function keySecret(key: string): string {
  const m = /^ak_[0-9a-f]{12}_([A-Za-z0-9_-]{43})$/.exec(key);
  if (!m) throw new Error(`not an API key: ${key.slice(0, 16)}…`);
  return m[1]!;
}
