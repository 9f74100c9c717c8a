// Listener lists: the one way parts here let others subscribe to their events.

/** Adds `listener` to `list`; returns a function that removes it (idempotent: a second call removes nothing). */
export function addListener<T>(list: T[], listener: T): () => void {
  list.push(listener);
  return () => {
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  };
}
