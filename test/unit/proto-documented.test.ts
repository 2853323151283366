/**
 * The gRPC contract documents itself: every rpc, message, enum and field of
 * proto/seats.proto carries a `//` comment, on the line directly above or trailing on its
 * own line. Server reflection hands the proto to tools (grpcurl describe), so an
 * undocumented field is one a client has to guess at.
 *
 * The proto is read loosely, line by line: enough for the file's own style (one declaration
 * a line), not a proto parser.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SEATS_PROTO_PATH } from '../../src/gateway/grpc/proto.ts';

type Block = { kind: 'service' | 'message' | 'enum' | 'oneof'; name: string };

const OPEN_RE = /^(service|message|enum|oneof)\s+(\w+)\s*\{/;
const RPC_RE = /^rpc\s+(\w+)\s*\(/;
// `[repeated|optional] <type|map<k, v>> <name> = <n>` (the options in `[...]` are left alone).
const FIELD_RE = /^(?:(?:repeated|optional)\s+)?(?:map\s*<[^>]*>|[\w.]+)\s+(\w+)\s*=\s*\d+/;
const ENUM_VALUE_RE = /^(\w+)\s*=\s*-?\d+/;
const NOT_A_FIELD_RE = /^(option|reserved|extensions)\b/;

/** The declarations of `source` without a comment, as `line <n>: <what>`. */
function undocumented(source: string): string[] {
  const lines = source.split('\n');
  const stack: Block[] = [];
  const missing: string[] = [];
  const commented = (i: number, line: string) => line.includes('//') || (i > 0 && (lines[i - 1] as string).trim().startsWith('//'));
  lines.forEach((raw, i) => {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!line) return;
    const top = stack[stack.length - 1];
    // The message a field belongs to: a oneof's fields are its message's.
    const owner = [...stack].reverse().find((b) => b.kind !== 'oneof');
    const open = OPEN_RE.exec(line);
    let what: string | undefined;
    if (open) {
      const [, kind, name] = open as unknown as [string, Block['kind'], string];
      if (kind === 'message' || kind === 'enum') what = `${kind} ${name}`;
      stack.push({ kind, name });
      if (line.endsWith('}')) stack.pop(); // `message Empty {}`
    } else if (line.startsWith('}')) {
      stack.pop();
    } else if (top?.kind === 'service') {
      const rpc = RPC_RE.exec(line);
      if (rpc) what = `rpc ${top.name}.${rpc[1]}`;
    } else if (top?.kind === 'enum') {
      const value = ENUM_VALUE_RE.exec(line);
      if (value && !NOT_A_FIELD_RE.test(line)) what = `enum value ${top.name}.${value[1]}`;
    } else if (top && owner) {
      const field = FIELD_RE.exec(line);
      if (field && !NOT_A_FIELD_RE.test(line)) what = `field ${owner.name}.${field[1]}`;
    }
    if (what && !commented(i, raw)) missing.push(`line ${i + 1}: ${what}`);
  });
  return missing;
}

test('every rpc, message, enum and field of seats.proto has a comment', () => {
  const missing = undocumented(readFileSync(SEATS_PROTO_PATH, 'utf8'));
  assert.deepEqual(missing, [], `undocumented in proto/seats.proto:\n  ${missing.join('\n  ')}`);
});

test('the check finds what a comment is missing from, and counts each form of comment', () => {
  const sample = [
    'syntax = "proto3";',
    '// Documented.',
    'service S {',
    '  // Above.',
    '  rpc Get(GetRequest) returns (Thing);',
    '  rpc List(ListRequest) returns (Things);',
    '}',
    '',
    '// A comment with a blank line after it documents nothing.',
    '',
    'message Thing {',
    '  string id = 1; // trailing',
    '  // Above, over two lines',
    '  // of comment.',
    '  repeated string seats = 2;',
    '  optional uint32 count = 3;',
    '  map<string, Thing> children = 4;',
    '  // A snapshot or a delta.',
    '  oneof update {',
    '    string snapshot = 5;',
    '    // Commented.',
    '    string delta = 6;',
    '  }',
    '  reserved 7;',
    '}',
    '// Empty.',
    'message Empty {}',
    'message Bare {}',
    'enum Status {',
    '  // The zero value.',
    '  STATUS_UNSPECIFIED = 0;',
    '  STATUS_OK = 1;',
    '}',
  ].join('\n');
  assert.deepEqual(undocumented(sample), [
    'line 6: rpc S.List',
    'line 11: message Thing',
    'line 16: field Thing.count',
    'line 17: field Thing.children',
    'line 20: field Thing.snapshot',
    'line 28: message Bare',
    'line 29: enum Status',
    'line 32: enum value Status.STATUS_OK',
  ]);
});
