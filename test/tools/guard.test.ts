import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAllowed, isBlockedAddress } from '../../src/tools/fetch/guard.ts';

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
