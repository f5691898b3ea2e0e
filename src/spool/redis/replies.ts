/**
 * Turning Redis replies (script results, pipeline results) into typed values,
 * and Redis failures into SpoolError: the one error the spool's callers see.
 */
import { storageError } from '../storage-error.js';

/** A pipeline's per-command results: [error, reply] pairs (null when discarded). */
export type PipelineResults = [Error | null, unknown][] | null;

export function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A script's array reply as strings (nil entries become ''). */
export function strings(reply: unknown): string[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : ''));
}

export function numbers(reply: unknown): number[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((v: unknown) => Number(v));
}

/** The replies of a pipeline, in order; throws the first command error. */
export function pipelineReplies(results: PipelineResults): unknown[] {
  if (results === null) throw new Error('pipeline discarded');
  return results.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/** Runs one Redis step; whatever fails comes out as SpoolError. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw storageError(error);
  }
}
