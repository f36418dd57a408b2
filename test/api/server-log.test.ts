// The API's log lines are JSON with an `event` field like every other line of
// the daemon's log (README: one event per line): fastify's own bare-message
// lines, such as "Server listening at URL", included.

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startApi } from '../../src/api/server.js';
import { fakeDeps } from './fake-deps.js';

describe('API log lines', () => {
  it('fastify\'s "Server listening" line carries event api-listening and the address', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const api = await startApi(fakeDeps().deps, { listen: '127.0.0.1:0' }, { logger });
    try {
      expect(api).toBeDefined();
      const listening = lines.find((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('Server listening at'));
      expect(listening).toMatchObject({ event: 'api-listening', address: api!.url });
      expect(lines.filter((l) => typeof l['event'] !== 'string')).toEqual([]);
    } finally {
      await api?.close();
    }
  });
});
