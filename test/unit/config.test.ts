import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, ENV_NAMES, configKeyOf, loadConfig, type Config } from '../../src/config.ts';

/** The first-column names of README's Configuration table, each with whether its row says **tests only**. */
function readmeSettings(): Array<{ name: string; testsOnly: boolean }> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Configuration\n');
  assert.ok(start >= 0, 'README has a Configuration section');
  const end = readme.indexOf('\n## ', start + 1);
  const rows = readme
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .filter((line) => line.startsWith('| `'));
  return rows.flatMap((row) => {
    const firstCell = row.split('|')[1] ?? '';
    const testsOnly = row.includes('**tests only**');
    return [...firstCell.matchAll(/`([A-Z][A-Z0-9_*]*)`/g)].map((m) => ({ name: m[1] ?? '', testsOnly }));
  });
}

/** `RATE_LIMIT_*` in the README stands for every setting it matches. */
const matches = (pattern: string, name: string) => new RegExp(`^${pattern.replaceAll('*', '[A-Z0-9_]*')}$`).test(name);

describe('configuration', () => {
  it('gives every env name of the schema its own camelCase Config field, present even when unset', () => {
    const config = loadConfig({});
    const keys = ENV_NAMES.map(configKeyOf);
    assert.equal(new Set(keys).size, ENV_NAMES.length, 'no two env names share a field');
    for (const [i, name] of ENV_NAMES.entries()) {
      const key = keys[i] ?? '';
      assert.match(key, /^[a-z][A-Za-z0-9]*$/);
      assert.equal(key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase(), name, `${key} names ${name} back`);
      assert.ok(Object.hasOwn(config, key), `${name} → ${key}`);
    }
    assert.deepEqual(Object.keys(config).sort(), [...keys].sort(), 'and no field besides');
  });

  it('keeps the names and shapes the code reads', () => {
    const config: Config = loadConfig({
      GRPC_MAX_WATCH_STREAMS_PER_ADDRESS: '7',
      TRUSTED_PROXIES: ' 10.0.0.1 ,, 10.0.0.2',
      ALLOWED_ORIGINS: 'https://a.example',
      EVENT_LOG_TRUNCATE_AT: 'events-000003.log:4096',
      SERVE_THROUGH_REDIS_OUTAGE: 'no',
    });
    assert.equal(config.grpcMaxWatchStreamsPerAddress, 7);
    assert.deepEqual(config.trustedProxies, ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(config.allowedOrigins, ['https://a.example']);
    assert.deepEqual(config.eventLogTruncateAt, { file: 'events-000003.log', offset: 4096 });
    assert.equal(config.serveThroughRedisOutage, false);
    const defaults = loadConfig({});
    assert.deepEqual(defaults.trustedProxies, []);
    assert.deepEqual(defaults.allowedOrigins, []);
    assert.equal(defaults.port, 8080);
    assert.equal(defaults.nodeId, undefined);
  });

  it('names the setting in the message of a bad value', () => {
    assert.throws(
      () => loadConfig({ ALLOWED_ORIGINS: 'evil', PORT: 'x' }),
      (e: unknown) => e instanceof ConfigError && /^ {2}PORT: /m.test(e.message) && /^ {2}ALLOWED_ORIGINS: /m.test(e.message),
    );
    assert.throws(
      () => loadConfig({ ROLE: 'worker' }),
      (e: unknown) => e instanceof ConfigError && /NATS_URL, DATABASE_URL, REDIS_URL, HOLD_TOKEN_SECRET/.test(e.message),
    );
  });

  it("README's Configuration table lists every setting, and only settings (rows marked tests only aside)", () => {
    const documented = readmeSettings();
    for (const name of ENV_NAMES) {
      const rows = documented.filter((d) => matches(d.name, name));
      assert.ok(rows.length > 0, `${name} is in README's Configuration table`);
      if (name.includes('FOR_TESTS'))
        assert.ok(
          rows.some((d) => d.testsOnly),
          `${name} is marked **tests only**`,
        );
    }
    for (const d of documented)
      if (!d.testsOnly)
        assert.ok(
          ENV_NAMES.some((name) => matches(d.name, name)),
          `README's ${d.name} is a setting the schema reads`,
        );
  });
});
