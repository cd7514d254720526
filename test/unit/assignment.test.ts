import { describe, expect, it } from 'vitest';
import { isAwayStatus, rotationFrom } from '../../src/care/assignment.js';

describe('the round robin', () => {
  const pool = ['U1', 'U2', 'U3'];

  it('starts with the person after the one assigned last, and wraps round', () => {
    expect(rotationFrom(pool, null)).toEqual(['U1', 'U2', 'U3']);
    expect(rotationFrom(pool, 'U1')).toEqual(['U2', 'U3', 'U1']);
    expect(rotationFrom(pool, 'U3')).toEqual(['U1', 'U2', 'U3']);
  });

  it('carries on in order when the last one left the team', () => {
    expect(rotationFrom(['U1', 'U3'], 'U2')).toEqual(['U3', 'U1']);
    expect(rotationFrom(['U1', 'U2'], 'U9')).toEqual(['U1', 'U2']);
    expect(rotationFrom([], 'U1')).toEqual([]);
  });
});

describe('an away status', () => {
  const away = [':palm_tree:', ':face_with_thermometer:'];
  const now = new Date('2026-11-23T10:00:00Z');

  it('is one of the configured emoji, until it expires', () => {
    expect(isAwayStatus({ emoji: ':palm_tree:', expiresAt: null }, away, now)).toBe(true);
    expect(
      isAwayStatus({ emoji: ':palm_tree:', expiresAt: new Date('2026-11-23T10:00:01Z') }, away, now),
    ).toBe(true);
    expect(
      isAwayStatus({ emoji: ':palm_tree:', expiresAt: new Date('2026-11-23T10:00:00Z') }, away, now),
    ).toBe(false);
    expect(isAwayStatus({ emoji: ':coffee:', expiresAt: null }, away, now)).toBe(false);
    expect(isAwayStatus({ emoji: '', expiresAt: null }, away, now)).toBe(false);
    expect(isAwayStatus({ emoji: ':palm_tree:', expiresAt: null }, [], now)).toBe(false);
  });
});
