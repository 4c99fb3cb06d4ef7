// The live notification list: events the server's watcher finds (an
// advisory reaching an environment, a failed signature on something
// deployed, a deployment running an unverified model), read from the
// server-sent event stream GET ../v1/watch/events. EventSource cannot send
// the Authorization header, so the stream is read with fetch; when it ends
// (the server's request deadline) it resumes after the last event seen.
import { endpoint, token } from './api.js';

export const MAX_ALERTS = 200;

// parseSSE splits a text chunk stream into events; it returns the events
// complete in buf and the unparsed rest.
export function parseSSE(buf) {
  const out = [];
  let i;
  while ((i = buf.indexOf('\n\n')) >= 0) {
    const block = buf.slice(0, i);
    buf = buf.slice(i + 2);
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '');
    }
    if (data) {
      try {
        out.push(JSON.parse(data));
      } catch {
        // a malformed event is skipped
      }
    }
  }
  return [out, buf];
}

// watchAlerts calls onEvent for every event and onState with 'live',
// 'reconnecting' or an error message; it returns a function that stops.
export function watchAlerts(onEvent, onState) {
  let stopped = false;
  let after = '';
  let ctl = null;
  let wait = 1000;
  async function once() {
    ctl = new AbortController();
    const url = new URL(endpoint('../v1/watch/events'));
    if (after) url.searchParams.set('after', after);
    const t = token();
    const res = await fetch(url, { headers: t ? { Authorization: `Bearer ${t}`, Accept: 'text/event-stream' } : { Accept: 'text/event-stream' }, signal: ctl.signal, credentials: 'same-origin' });
    if (res.status === 401 || res.status === 403) throw Object.assign(new Error(`${res.status}: the notifications need a token with the read scope`), { fatal: true });
    if (!res.ok || !res.body) throw new Error(`${res.status} ${res.statusText}`);
    onState('live');
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true }).replace(/\r\n/g, '\n');
      const [evs, rest] = parseSSE(buf);
      buf = rest;
      for (const e of evs) {
        after = String(e.seq);
        wait = 1000;
        onEvent(e);
      }
    }
  }
  (async () => {
    while (!stopped) {
      try {
        await once();
      } catch (e) {
        if (stopped || e.name === 'AbortError') return;
        onState(e.message);
        if (e.fatal) return;
      }
      if (stopped) return;
      onState('reconnecting');
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 30000);
    }
  })();
  return () => {
    stopped = true;
    if (ctl) ctl.abort();
  };
}
