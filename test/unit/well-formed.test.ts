import { describe, expect, it } from 'vitest';
import { isWellFormed, toWellFormed, wellFormedBody } from '../../src/http/well-formed.js';

describe('well-formed Unicode at the edge', () => {
  it('tells lone surrogates from pairs, and replaces only the lone ones', () => {
    expect(isWellFormed('plain é 😀')).toBe(true);
    expect(isWellFormed('\ud800')).toBe(false);
    expect(isWellFormed('a\udc00')).toBe(false);
    expect(isWellFormed('\ude00\ud83d')).toBe(false);
    expect(toWellFormed('x\ud83d\ude00y\ud83dz\ude00')).toBe('x😀y\ufffdz\ufffd');
  });

  it('repairs free text at any depth and names the first identifier that holds one', () => {
    const freeText = new Set(['text', 'name']);
    expect(
      wellFormedBody({ entry: [{ id: '1', text: 'a\ud800', from: { name: ['b\udc00'] } }] }, freeText),
    ).toEqual({ ok: true, body: { entry: [{ id: '1', text: 'a\ufffd', from: { name: ['b\ufffd'] } }] } });
    expect(wellFormedBody({ entry: [{ id: '\ud800', text: 'ok' }] }, freeText)).toEqual({
      ok: false,
      path: 'entry.0.id',
    });
    expect(wellFormedBody({ 'k\ud800': 1 }, freeText)).toEqual({ ok: false, path: 'k\ufffd' });
    expect(wellFormedBody('\ud800', freeText)).toEqual({ ok: false, path: '(body)' });
    expect(wellFormedBody(null, freeText)).toEqual({ ok: true, body: null });
  });
});
