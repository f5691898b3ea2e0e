/** Waits until `check` holds, polling every `intervalMs`; fails after `timeoutMs`, saying what it waited for. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 3_000,
  what: () => string = () => 'the condition',
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
