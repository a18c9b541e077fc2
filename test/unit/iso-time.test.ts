import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoTimeUtc } from '../../src/log/iso-time.js';

describe('isoTimeUtc (log timestamps without a Date)', () => {
  it('writes what Date.prototype.toISOString writes', () => {
    const day = 86_400_000;
    const edges = [
      0,
      -1,
      1,
      day - 1,
      Date.UTC(2000, 1, 29, 23, 59, 59, 999),
      Date.UTC(2000, 2, 1),
      Date.UTC(1900, 1, 28, 12),
      Date.UTC(1900, 2, 1),
      Date.UTC(2100, 1, 28, 23, 59, 59, 999),
      Date.UTC(2100, 2, 1),
      Date.UTC(2024, 11, 31, 23, 59, 59, 999),
      Date.UTC(2025, 0, 1),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.parse('0000-01-01T00:00:00.000Z'),
      Date.now(),
      Date.now() + 0.7,
    ];
    // A sweep of the day ranges a clock can read (1970-2200), a day and a few hours apart.
    for (let t = 0; t < Date.UTC(2200, 0, 1); t += 7 * day + 3_601_001) edges.push(t);
    // Coarser over years 0000-1969: other 400-year eras, negative times.
    const y0 = Date.parse('0000-01-01T00:00:00.000Z');
    for (let t = y0; t < 0; t += 37 * day + 7_654_321) edges.push(t);
    for (const t of edges) assert.equal(isoTimeUtc(t), new Date(t).toISOString(), String(t));
  });

  it('leaves years outside 0000-9999 to Date (a signed six-digit year)', () => {
    const t = Date.UTC(10000, 0, 1);
    assert.equal(isoTimeUtc(t), '+010000-01-01T00:00:00.000Z');
    assert.equal(isoTimeUtc(-62198755200001), new Date(-62198755200001).toISOString());
  });
});
