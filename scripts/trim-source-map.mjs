// Keeps a bundle's source map small enough to commit: only the segments that point into
// this project's own sources (a stack trace through src/ stays readable), no embedded
// sources and no names. ncc's full map covers every bundled package (about 30 MB).
import { readFileSync, writeFileSync } from 'node:fs';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = Object.fromEntries([...B64].map((c, i) => [c, i]));

function decodeSegment(text) {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const ch of text) {
    const digit = DIGIT[ch];
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

function encode(n) {
  let v = n < 0 ? (-n << 1) | 1 : n << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v) digit |= 32;
    out += B64[digit];
  } while (v);
  return out;
}

export function trimSourceMap(path, keep = (source) => !source.includes('node_modules')) {
  const map = JSON.parse(readFileSync(path, 'utf8'));
  const kept = map.sources.map((s) => keep(s));
  const index = new Map();
  const sources = [];
  map.sources.forEach((s, i) => {
    if (kept[i]) {
      index.set(i, sources.length);
      sources.push(s);
    }
  });
  let src = 0, line = 0, col = 0; // absolute, decoding
  let oSrc = 0, oLine = 0, oCol = 0; // previous, encoding
  const lines = map.mappings.split(';').map((text) => {
    let gen = 0, oGen = 0;
    const out = [];
    for (const seg of text ? text.split(',') : []) {
      const v = decodeSegment(seg);
      gen += v[0];
      if (v.length < 4) continue;
      src += v[1];
      line += v[2];
      col += v[3];
      if (!kept[src]) continue;
      const s = index.get(src);
      out.push(encode(gen - oGen) + encode(s - oSrc) + encode(line - oLine) + encode(col - oCol));
      oGen = gen;
      oSrc = s;
      oLine = line;
      oCol = col;
    }
    return out.join(',');
  });
  writeFileSync(path, JSON.stringify({ version: 3, file: map.file, sources, names: [], mappings: lines.join(';') }));
}
