import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config.ts';
import { chatLimitsFromEnv } from '../../src/chat/limits.ts';
import { formatUtcTime, statusLine, userQuotaMessage, windowName } from '../../src/chat/messages.ts';

test('chat limits come from the CIR_* variables, with documented defaults', () => {
  assert.deepEqual(chatLimitsFromEnv(parseConfig({})), {
    maxConcurrent: 4,
    userConcurrent: 1,
    userQuota: 20,
    workspaceQuota: 200,
    quotaWindowMs: 3_600_000,
    queueMax: 50,
    followup: 'any',
    traceRetentionMs: 30 * 86_400_000,
  });
  const l = chatLimitsFromEnv(
    parseConfig({ CIR_MAX_CONCURRENT: '8', CIR_USER_QUOTA: '5', CIR_QUOTA_WINDOW_MIN: '1440', CIR_QUEUE_MAX: '0', CIR_FOLLOWUP: 'mention', CIR_TRACE_RETENTION_DAYS: '0' }),
  );
  assert.equal(l.maxConcurrent, 8);
  assert.equal(l.userQuota, 5);
  assert.equal(l.quotaWindowMs, 86_400_000);
  assert.equal(l.queueMax, 0);
  assert.equal(l.followup, 'mention');
  assert.equal(l.traceRetentionMs, 0);
});

test('quota wording names the window and a UTC time (with the date when not today)', () => {
  const now = Date.UTC(2026, 10, 25, 23, 30);
  assert.equal(windowName(3_600_000), 'hour');
  assert.equal(windowName(86_400_000), 'day');
  assert.equal(windowName(7_200_000), '2 hours');
  assert.equal(formatUtcTime(Date.UTC(2026, 10, 25, 23, 59), now), '23:59 UTC');
  assert.equal(formatUtcTime(Date.UTC(2026, 10, 26, 0, 30), now), 'Nov 26, 00:30 UTC');
  assert.equal(
    userQuotaMessage(5, 1_800_000, Date.UTC(2026, 10, 25, 23, 45), now),
    'You have used your 5 questions in the last 30 minutes; the next one frees at 23:45 UTC.',
  );
  assert.equal(statusLine({ state: 'queued', ahead: 2 }), 'Queued: 2 ahead of you');
});
