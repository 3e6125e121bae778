/**
 * A small memo of async results by key: at most `limit` entries (the oldest goes first), and a failed
 * computation is forgotten so the next call tries again.
 */
export function memoAsync<T>(limit: number): (key: string, compute: () => Promise<T>) => Promise<T> {
  const entries = new Map<string, Promise<T>>();
  return (key, compute) => {
    let value = entries.get(key);
    if (!value) {
      value = compute();
      value.catch(() => entries.delete(key));
      if (entries.size >= limit) entries.delete(entries.keys().next().value!);
      entries.set(key, value);
    }
    return value;
  };
}
