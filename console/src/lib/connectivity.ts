// Whether the server answers. Calls that fail for want of a network flip
// it off; the next answer flips it on. The header shows "offline, retrying".

type Listener = () => void;

let online = true;
const listeners = new Set<Listener>();

export function isOnline(): boolean {
  return online;
}

export function setOnline(v: boolean): void {
  if (v === online) return;
  online = v;
  listeners.forEach((l) => l());
}

export function subscribe(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
