import pino from 'pino';
import { logLevelFromEnv } from './config.ts';

/** The process's root logger; subsystems take a child: `logger.child({ subsystem: 'actor' })`. */
export const logger = pino({ level: logLevelFromEnv(), base: { pid: process.pid } });

export type Logger = pino.Logger;
