import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_KINDS, EVENT_TABLES, EVENT_TYPES, HEADER_COLUMNS, insertColumns, kindOfTable, kindOfType, tableColumns } from './kinds';
import { definitionSchema } from './seed';
import { DateTimeText, toCHDateTime64 } from './tsv';

test('event kinds: every column of a table is described once, header and writer columns included', () => {
  for (const kind of EVENT_KINDS) {
    const described = [...HEADER_COLUMNS, ...kind.fields, ...kind.writerColumns].map((c) => c.name);
    assert.equal(new Set(described).size, described.length, `${kind.table}: a column described twice`);
    assert.deepEqual([...kind.tableOrder].sort(), [...described].sort(), `${kind.table}: tableOrder names every column`);
    assert.equal(tableColumns(kind).length, described.length);
    assert.deepEqual(insertColumns(kind).slice(0, 2), ['tenant', 'task']);
    for (const key of kind.orderBy) assert.ok(described.includes(key), `${kind.table}: sort key ${key} is a column`);
  }
});

test('event kinds: each type and table names one kind, validated against a seed definition with its fields', () => {
  assert.equal(new Set(EVENT_TYPES).size, EVENT_KINDS.length);
  assert.equal(new Set(EVENT_TABLES).size, EVENT_KINDS.length);
  for (const kind of EVENT_KINDS) {
    assert.equal(kindOfType(kind.type), kind);
    assert.equal(kindOfTable(kind.table), kind);
    const props = Object.keys(definitionSchema(kind.definition)['properties'] as object);
    // Every field but a log's iter (which the seed's log event lacks; eventSchema adds it) is in the definition.
    for (const f of kind.fields) if (!(kind.type === 'log' && f.name === 'iter')) assert.ok(props.includes(f.name), `${kind.type}.${f.name} is in ${kind.definition}`);
    for (const r of kind.required) assert.ok(kind.fields.some((f) => f.name === r), `${kind.type}: required ${r} is a field`);
  }
});

test('DateTimeText formats as toCHDateTime64 does, across minutes, days and the whole range', () => {
  const text = new DateTimeText();
  for (let ms = Date.UTC(1900, 0, 1); ms < Date.UTC(2299, 0, 1); ms += 7_777_777_777 + 123) {
    for (const t of [ms, ms + 1, ms + 59_999, ms + 60_000, ms + 0.5, ms - 1]) assert.equal(text.format(t), toCHDateTime64(t), String(t));
  }
  assert.equal(text.format(-5), '1969-12-31 23:59:59.995');
  assert.equal(toCHDateTime64(1700000000123.9), '2023-11-14 22:13:20.123');
});
