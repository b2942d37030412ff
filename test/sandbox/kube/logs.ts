// Container logs as the kubelet keeps them: stdout and stderr interleaved line by line with
// the time each line was written, served by GET pods/<name>/log with the options the API
// documents (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#read-log-of-the-specified-pod-2):
// container, follow, tailLines, timestamps, limitBytes, sinceSeconds.

interface Line {
  time: Date;
  text: string; // with its trailing newline, except a last partial line
}

interface Buffer {
  lines: Line[];
  partial: string;
  partialTime: Date;
  done: boolean;
  listeners: Set<{ onData: (s: string) => void; onEnd: () => void }>;
}

export interface LogOptions {
  tailLines?: number;
  timestamps?: boolean;
  limitBytes?: number;
  sinceSeconds?: number;
}

const MAX_LINES = 100_000;

const stamp = (d: Date) => d.toISOString().replace('Z', '000000Z'); // RFC 3339 with nanoseconds

export class PodLogs {
  private readonly buffers = new Map<string, Buffer>();

  private buf(uid: string, container: string): Buffer {
    const k = `${uid}/${container}`;
    let b = this.buffers.get(k);
    if (!b) this.buffers.set(k, (b = { lines: [], partial: '', partialTime: new Date(), done: false, listeners: new Set() }));
    return b;
  }

  has(uid: string, container: string): boolean {
    return this.buffers.has(`${uid}/${container}`);
  }

  /** Starts a fresh (empty, open) log for a container run. */
  open(uid: string, container: string): void {
    const b = this.buf(uid, container);
    b.done = false;
  }

  append(uid: string, container: string, chunk: string): void {
    const b = this.buf(uid, container);
    let data = b.partial + chunk;
    if (!b.partial) b.partialTime = new Date();
    let i: number;
    while ((i = data.indexOf('\n')) >= 0) {
      b.lines.push({ time: b.partial ? b.partialTime : new Date(), text: data.slice(0, i + 1) });
      b.partial = '';
      data = data.slice(i + 1);
    }
    b.partial = data;
    if (b.lines.length > MAX_LINES) b.lines.splice(0, b.lines.length - MAX_LINES);
    for (const l of b.listeners) l.onData(chunk);
  }

  finish(uid: string, container: string): void {
    const b = this.buf(uid, container);
    if (b.done) return;
    b.done = true;
    for (const l of [...b.listeners]) l.onEnd();
    b.listeners.clear();
  }

  isDone(uid: string, container: string): boolean {
    return this.buf(uid, container).done;
  }

  text(uid: string, container: string, opts: LogOptions = {}): string {
    const b = this.buf(uid, container);
    let lines: Line[] = [...b.lines];
    if (b.partial) lines.push({ time: b.partialTime, text: b.partial });
    if (opts.sinceSeconds !== undefined) {
      const since = Date.now() - opts.sinceSeconds * 1000;
      lines = lines.filter((l) => l.time.getTime() >= since);
    }
    if (opts.tailLines !== undefined) lines = opts.tailLines > 0 ? lines.slice(-opts.tailLines) : [];
    let out = lines.map((l) => (opts.timestamps ? `${stamp(l.time)} ${l.text}` : l.text)).join('');
    if (opts.limitBytes !== undefined && opts.limitBytes > 0) out = Buffer.from(out).subarray(0, opts.limitBytes).toString('utf8');
    return out;
  }

  /** Streams new output until the container's log finishes; returns the unsubscribe. */
  follow(uid: string, container: string, onData: (s: string) => void, onEnd: () => void): () => void {
    const b = this.buf(uid, container);
    if (b.done) {
      onEnd();
      return () => undefined;
    }
    const l = { onData, onEnd };
    b.listeners.add(l);
    return () => b.listeners.delete(l);
  }

  /** Ends every follower of a pod (pod deleted). */
  drop(uid: string): void {
    for (const [k, b] of this.buffers) {
      if (!k.startsWith(`${uid}/`)) continue;
      for (const l of [...b.listeners]) l.onEnd();
      this.buffers.delete(k);
    }
  }
}
