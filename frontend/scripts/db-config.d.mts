import type { ClientConfig } from 'pg';

export const FRONTEND_DIR: string;
export const REPO_DIR: string;
export function connectionConfig(env?: NodeJS.ProcessEnv): ClientConfig;
export function schemaSql(): string;
