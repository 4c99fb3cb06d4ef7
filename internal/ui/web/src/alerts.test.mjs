// Unit tests of the notification stream parser (node --test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSSE } from './alerts.js';

test('parseSSE splits events and keeps the unfinished rest', () => {
  const a = { id: 'mgw_1', seq: 1, kind: 'advisory-reaches-environment' };
  const b = { id: 'mgw_2', seq: 2, kind: 'unverified-deployment' };
  const text = `: ready\n\nid: 1\nevent: ${a.kind}\ndata: ${JSON.stringify(a)}\n\nid: 2\nevent: ${b.kind}\ndata: ${JSON.stringify(b).slice(0, 10)}`;
  const [evs, rest] = parseSSE(text);
  assert.deepEqual(evs, [a]);
  const [evs2, rest2] = parseSSE(rest + JSON.stringify(b).slice(10) + '\n\n');
  assert.deepEqual(evs2, [b]);
  assert.equal(rest2, '');
});

test('parseSSE skips comments and malformed data', () => {
  const [evs] = parseSSE(': keep-alive\n\ndata: {not json\n\n');
  assert.deepEqual(evs, []);
});
