// The page's only data source is the server's GraphQL endpoint (plus the
// AI-BOM file download). Paths are relative to the page so that the UI keeps
// working behind a reverse proxy that mounts modelgraph under a prefix.

const TOKEN_KEY = 'modelgraph.token';

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the token lives for this page only.
  }
}

function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

export function endpoint(rel) {
  return new URL(rel, document.baseURI).toString();
}

// APIError carries what the server said: an HTTP status for transport and
// authentication failures, GraphQL error codes otherwise.
export class APIError extends Error {
  constructor(message, { status = 0, code = '', errors = [] } = {}) {
    super(message);
    this.name = 'APIError';
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
  get unauthenticated() {
    return this.status === 401 || this.status === 403;
  }
  get notFound() {
    return this.code === 'NOT_FOUND';
  }
}

async function readError(res) {
  const text = await res.text();
  try {
    const j = JSON.parse(text);
    if (j && j.error && j.error.message) return j.error.message;
    if (j && Array.isArray(j.errors) && j.errors[0]) return j.errors[0].message;
  } catch {
    // not JSON
  }
  return text.trim() || res.statusText;
}

// gql posts one operation. Partial data with errors is an error: every
// question the page asks needs its whole answer.
export async function gql(query, variables = {}, { signal } = {}) {
  let res;
  try {
    res = await fetch(endpoint('../graphql'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authHeaders() },
      body: JSON.stringify({ query, variables }),
      signal,
      credentials: 'same-origin',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new APIError(`cannot reach the server: ${e.message}`);
  }
  if (!res.ok && !(res.headers.get('Content-Type') || '').includes('json')) {
    throw new APIError(`${res.status} ${await readError(res)}`, { status: res.status });
  }
  if (res.status === 401 || res.status === 403) {
    throw new APIError(await readError(res), { status: res.status });
  }
  let body;
  try {
    body = await res.json();
  } catch (e) {
    throw new APIError(`the server sent an unreadable answer (${res.status}): ${e.message}`, { status: res.status });
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    const code = (first.extensions && first.extensions.code) || '';
    throw new APIError(first.message, { status: res.status, code, errors: body.errors });
  }
  if (!res.ok) throw new APIError(`${res.status} ${res.statusText}`, { status: res.status });
  return body.data;
}

// download fetches an export with the token and hands it to the browser as
// a file: a plain link cannot carry the Authorization header.
export async function download(rel, filename) {
  const res = await fetch(endpoint(rel), { headers: authHeaders(), credentials: 'same-origin' });
  if (!res.ok) throw new APIError(`${res.status} ${await readError(res)}`, { status: res.status });
  saveBlob(await res.blob(), filename);
}

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
