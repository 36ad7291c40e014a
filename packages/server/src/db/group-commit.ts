/**
 * Group commit: changes that arrive together are written together, by one call of `write` (one
 * transaction, multi-row statements), and each caller gets its own result.
 *
 * A write starts at the end of the event-loop turn in which its first change arrived (setImmediate,
 * no timer): every request Node has already read by then joins it. That yield is what makes batches
 * form on PGlite, whose queries run in WebAssembly without ever returning to the event loop: while a
 * write runs, new requests wait in the socket buffers, and are read together right after. Changes
 * arriving while `concurrency` writes are in flight wait and form the next batch.
 *
 * A batch whose write fails is written again one member at a time, so an input the database refuses
 * fails alone, with its own error, and the others still succeed.
 */
export interface GroupCommitOptions {
  /** The most inputs written by one call. */
  maxBatch: number;
  /** How many writes may be in flight at once (1 for a single-connection database). */
  concurrency: number;
}

/** Writes inputs in one transaction and returns one output per input, in the same order. */
export type BatchWrite<I, O> = (inputs: I[]) => Promise<O[]>;

interface Waiting<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

export function groupCommit<I, O>(
  write: BatchWrite<I, O>,
  { maxBatch, concurrency }: GroupCommitOptions,
): (input: I) => Promise<O> {
  const queue: Waiting<I, O>[] = [];
  /** Writers running or about to start; at most one is about to start. */
  let writers = 0;
  let starting = false;

  const writeAlone = async (member: Waiting<I, O>) => {
    try {
      const [output] = await write([member.input]);
      member.resolve(output as O);
    } catch (err) {
      member.reject(err);
    }
  };

  const writeBatch = async (batch: Waiting<I, O>[]) => {
    if (batch.length === 1) return writeAlone(batch[0]!);
    let outputs: O[];
    try {
      outputs = await write(batch.map((m) => m.input));
    } catch {
      // Nothing of the batch was committed; find out whose input it was by writing each on its own.
      await Promise.all(batch.map(writeAlone));
      return;
    }
    batch.forEach((member, i) => {
      member.resolve(outputs[i] as O);
    });
  };

  const writer = async () => {
    starting = false;
    try {
      while (queue.length > 0) await writeBatch(queue.splice(0, maxBatch));
    } finally {
      writers--;
    }
  };

  return (input) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (starting || writers >= concurrency) return;
      starting = true;
      writers++;
      setImmediate(writer);
    });
}
