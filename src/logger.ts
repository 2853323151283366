import pino from 'pino';
import { logLevelFromEnv, prettyLogsFromEnv } from './config.ts';

/**
 * The process's root logger; subsystems take a child: `logger.child({ subsystem: 'actor' })`.
 * JSON lines for machines; readable lines when a person watches a terminal (LOG_FORMAT).
 */
export const logger = pino({
  level: logLevelFromEnv(),
  base: { pid: process.pid },
  ...(prettyLogsFromEnv()
    ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true } } }
    : {}),
});

export type Logger = pino.Logger;
