import { takeUntil } from 'rxjs';
import type { MonoTypeOperatorFunction, ObservableInput } from 'rxjs';

/**
 * Completes the stream when `shutdown$` first emits (SIGTERM/SIGINT). Put it
 * last in a pipe, after the operators whose inner subscriptions it must end.
 * A `shutdown$` that completes without emitting changes nothing.
 */
export function untilShutdown<T>(shutdown$: ObservableInput<unknown>): MonoTypeOperatorFunction<T> {
  return takeUntil<T>(shutdown$);
}
