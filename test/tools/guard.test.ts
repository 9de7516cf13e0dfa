import { test } from 'node:test';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { guardedConnector, isAllowed, isBlockedAddress } from '../../src/tools/fetch/guard.ts';
import { ToolError } from '../../src/tools/types.ts';

test('internal, reserved and special addresses are blocked', () => {
  for (const a of ['127.0.0.1', '127.255.0.9', '0.0.0.0', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1',
    '169.254.169.254', '100.64.0.1', '100.127.255.254', '224.0.0.1', '255.255.255.255', '192.0.2.5', '198.18.0.1',
    '::', '::1', '[::1]', '::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:a9fe:a9fe', '::ffff:8.8.8.8',
    'fc00::1', 'fd12:3456::1', 'fe80::1', 'fe80::1%eth0', 'ff02::1', '64:ff9b::7f00:1', '2002:7f00:1::1', '::7f00:1',
    'not-an-ip'])
    assert.equal(isBlockedAddress(a), true, a);
});

test('public addresses pass', () => {
  for (const a of ['8.8.8.8', '93.184.216.34', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:82b::200e'])
    assert.equal(isBlockedAddress(a), false, a);
});

test('the allow list matches exact host:port pairs only', () => {
  const allow = ['127.0.0.1:8080', '[::1]:9000', 'intranet.local:443'];
  assert.equal(isAllowed(allow, '127.0.0.1', '8080', 'http:'), true);
  assert.equal(isAllowed(allow, '127.0.0.1', '8081', 'http:'), false);
  assert.equal(isAllowed(allow, '[::1]', '9000', 'http:'), true);
  assert.equal(isAllowed(allow, 'intranet.local', '', 'https:'), true);
  assert.equal(isAllowed(allow, 'intranet.local', '', 'http:'), false);
  assert.equal(isAllowed([], '127.0.0.1', '8080', 'http:'), false);
});

test('the connector refuses a name if any resolved address is internal (DNS answers checked)', async () => {
  const answers: Record<string, { address: string }[]> = {
    'mixed.test': [{ address: '93.184.216.34' }, { address: '10.0.0.7' }],
    'metadata.test': [{ address: '169.254.169.254' }],
    'mapped.test': [{ address: '::ffff:127.0.0.1' }],
    'empty.test': [],
  };
  const connect = guardedConnector({ allowHosts: [], connectTimeoutMs: 1000, lookup: async (h) => answers[h] ?? [] });
  const dial = (hostname: string) =>
    new Promise<Error | null>((done) => connect({ hostname, port: '80', protocol: 'http:' }, (...args) => done(args[0])));
  for (const h of ['mixed.test', 'metadata.test', 'mapped.test']) {
    const err = await dial(h);
    assert.ok(err instanceof ToolError && err.code === 'refused', `${h}: ${String(err)}`);
    assert.match(err.message, new RegExp(`refused to fetch ${h.replace('.', '\\.')} \\(`));
  }
  const none = await dial('empty.test');
  assert.ok(none instanceof ToolError && none.code === 'dns');
});

test('the connector dials the address it checked and never resolves the name again (DNS rebinding)', async () => {
  // A rebinding name answers a public address to the check and loopback afterwards. What is dialled
  // is observed on node:net itself (undici calls net.connect at connect time).
  const net = createRequire(import.meta.url)('node:net') as typeof import('node:net');
  const realConnect = net.connect;
  const dialled: string[] = [];
  let lookups = 0;
  (net as { connect: unknown }).connect = (opts: { host: string }) => {
    dialled.push(opts.host);
    return realConnect({ host: '127.0.0.1', port: 9 }); // a closed port: the dial fails harmlessly
  };
  try {
    const connect = guardedConnector({
      allowHosts: [],
      connectTimeoutMs: 1000,
      lookup: async () => (lookups++ === 0 ? [{ address: '93.184.216.34' }] : [{ address: '127.0.0.1' }]),
    });
    await new Promise<void>((done) => connect({ hostname: 'rebind.test', port: '80', protocol: 'http:' }, () => done()));
  } finally {
    (net as { connect: unknown }).connect = realConnect;
  }
  assert.equal(lookups, 1);
  assert.deepEqual(dialled, ['93.184.216.34']);
});

test('the connector dials IPv4 first and falls back to IPv6 when that fails (no happy-eyeballs when dialling an address)', async () => {
  const net = createRequire(import.meta.url)('node:net') as typeof import('node:net');
  const realConnect = net.connect;
  const dialled: string[] = [];
  (net as { connect: unknown }).connect = (opts: { host: string }) => {
    dialled.push(opts.host);
    return realConnect({ host: '127.0.0.1', port: 9 }); // a closed port: every dial fails
  };
  let err: Error | null = null;
  try {
    const connect = guardedConnector({
      allowHosts: [],
      connectTimeoutMs: 1000,
      lookup: async () => [{ address: '2606:2800:220:1::1' }, { address: '93.184.216.34' }, { address: '93.184.216.35' }],
    });
    err = await new Promise<Error | null>((done) => connect({ hostname: 'dual.test', port: '80', protocol: 'http:' }, (...args) => done(args[0])));
  } finally {
    (net as { connect: unknown }).connect = realConnect;
  }
  assert.deepEqual(dialled, ['93.184.216.34', '2606:2800:220:1::1']);
  assert.ok(err, 'the last failure is reported when no address connects');
});

test('the allow list is never a suffix, prefix or port-less match', () => {
  const allow = ['intranet.local:8080', '10.0.0.5:80'];
  for (const [host, port] of [
    ['evil.intranet.local', '8080'], ['intranet.local.evil.com', '8080'], ['xintranet.local', '8080'], ['intranet.loca', '8080'],
    ['intranet.local', ''], ['intranet.local', '80'], ['intranet.local', '18080'], ['10.0.0.50', '80'], ['10.0.0.5', '8080'],
  ])
    assert.equal(isAllowed(allow, host, port, 'http:'), false, `${host}:${port}`);
  assert.equal(isAllowed(allow, 'INTRANET.local', '8080', 'http:'), true);
  assert.equal(isAllowed(allow, '10.0.0.5', '', 'http:'), true);
});
