// The layout of the buffer the journal shares with its writer thread (journal-worker.ts): a
// few Int32 control words, then the bytes of the one batch in flight. Kept apart from the
// worker's module, whose top level installs the worker's message handler.

/** Control word: batches handed over so far (the writer sleeps on it). */
export const SENT = 0;

/** Control word: byte length of the batch just handed over, or CLOSE. */
export const LENGTH = 1;

/** Bytes of control words before the batch bytes. */
export const CONTROL_BYTES = 16;

/** LENGTH value asking the writer to close the database and stop. */
export const CLOSE = -1;
