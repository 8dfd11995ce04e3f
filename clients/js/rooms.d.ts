// Types for rooms.js, the DurableRooms JavaScript client (docs/CLIENTS.md).

export interface Message {
  seq: number;
  id: string;
  user: string;
  text: string;
  ts: number;
  [field: string]: unknown;
}

export interface Ack {
  id: string;
  seq?: number;
  duplicate?: boolean;
  scheduled?: boolean;
  deliverAt?: number;
}

export interface Present {
  user: string;
  connections: number;
}

export interface AnswerStream {
  stream: string;
  replyTo?: number;
  text: string;
  index: number;
  done: boolean;
  status?: "complete" | "cancelled" | "error";
  seq?: number;
  error?: { code: string; message: string };
}

export type ConnectionState = "connecting" | "syncing" | "open" | "waiting" | "offline" | "closed";

export interface RoomClientOptions {
  /** A token (jwt mode), sent as `?token=`. */
  token?: string;
  /** Called for a new token when the server closes with 4401 (expired or refused token). */
  getToken?: () => Promise<string> | string;
  /** The last `seq` the app already has: resume after it. */
  after?: number;
  /** The epoch `after` was seen under. */
  epoch?: string;
  /** The WebSocket class (default: the global one; in Node before 22, the `ws` package). */
  WebSocket?: unknown;
  /** The fetch function (default: the global one). */
  fetch?: typeof fetch;
  /** First reconnect delay cap in ms (500). */
  minBackoff?: number;
  /** Largest reconnect delay cap in ms (20000). */
  maxBackoff?: number;
  /** A connection open this long (ms) resets the backoff (5000). */
  resetAfter?: number;
  /** The most sends waiting for their ack (1000). */
  outboxLimit?: number;
  /** How often to ping, ms (25000). */
  pingInterval?: number;
  /** How long a ping may go unanswered before reconnecting, ms (10000). */
  pongTimeout?: number;
  /** The server's `maxFrameBytes` (65536). */
  maxFrameBytes?: number;
  /** A random number in [0, 1) (Math.random). */
  random?: () => number;
}

export interface RoomEvents {
  message: Message;
  welcome: Record<string, unknown>;
  state: ConnectionState;
  presence: Present[];
  receipt: { type: "receipt"; user: string; seq: number };
  typing: { type: "typing"; user: string };
  member: { type: "member"; event: string; user: string; role: string };
  ai: AnswerStream;
  inbox: Array<Record<string, unknown>>;
  reset: Record<string, unknown>;
  outbox: { size: number; full: boolean };
  closed: { code: number; reason: string };
  error: RoomsError;
  frame: Record<string, unknown>;
}

export class RoomsError extends Error {
  constructor(code: string, message?: string);
  readonly code: string;
}

export class RoomClient {
  constructor(url: string, options?: RoomClientOptions);
  readonly state: ConnectionState;
  /** The last `seq` handed to the app (null before the first welcome without `after`). */
  readonly lastSeq: number | null;
  readonly epoch: string | null;
  readonly presence: Present[];
  /** How many users are online (from `presence` frames' `users`; right in rooms over their presenceLimit too). */
  readonly online: number;
  readonly receipts: Map<string, number>;
  readonly streams: Map<string, AnswerStream>;
  readonly inbox: Map<string, Record<string, unknown>>;
  start(): this;
  on<E extends keyof RoomEvents>(event: E, listener: (value: RoomEvents[E]) => void): () => void;
  send(text: string, options?: { id?: string; deliverAt?: number }): Promise<Ack>;
  read(seq: number): boolean;
  typing(): boolean;
  sendFrame(frame: Record<string, unknown>): boolean;
  history(options?: { after?: number; before?: number; limit?: number }): Promise<Message[]>;
  close(): void;
}

/** Connects to a room (`ws://host/rooms/{kind}/{id}/ws?user=NAME`) or to `/inbox/ws` and keeps it connected. */
export function connect(url: string, options?: RoomClientOptions): RoomClient;

/** One component of a text operation: positions count UTF-16 code units. */
export type TextComponent = { retain: number } | { insert: string } | { delete: number };
export type TextOperation = TextComponent[];

/** Operational transformation of plain text, the same as the `doc` room's. */
export const TextOps: {
  normalize(components: TextOperation): TextOperation;
  baseLength(op: TextOperation): number;
  pad(op: TextOperation, length: number): TextOperation;
  trim(op: TextOperation): TextOperation;
  apply(text: string, op: TextOperation): string;
  /** [a′, b′] such that a then b′ equals b then a′; a's inserts go first at a tie. */
  transform(a: TextOperation, b: TextOperation): [TextOperation, TextOperation];
  compose(a: TextOperation, b: TextOperation): TextOperation;
  transformPosition(position: number, op: TextOperation, afterInserts?: boolean): number;
  /** An operation turning `from` into `to` (never cutting a surrogate pair). */
  diff(from: string, to: string): TextOperation;
};

export interface DocumentEvents extends RoomEvents {
  /** The text changed: a local edit (`remote: false`), someone else's, or a (re)load (`ops: null`). */
  change: { text: string; ops: TextOperation | null; remote: boolean; user?: string };
  /** Other people's selections in `text`. */
  cursors: Map<string, { anchor: number; head: number }>;
  /** Whether local edits wait for the room. */
  pending: boolean;
}

/** A `doc` room's text kept in step with everyone editing it (docs/CLIENTS.md, "Documents"). */
export class DocumentClient extends RoomClient {
  /** The text as the app shows it: the room's, with local edits not yet acknowledged. */
  readonly text: string;
  /** The room's version this client has seen (null before the first `doc`). */
  readonly version: number | null;
  /** Whether the first `doc` has arrived (edits are refused before). */
  readonly loaded: boolean;
  readonly pending: boolean;
  readonly cursors: Map<string, { anchor: number; head: number }>;
  on<E extends keyof DocumentEvents>(event: E, listener: (value: DocumentEvents[E]) => void): () => void;
  /** Applies `ops` (on the current text; a trailing retain optional) at once and sends it. */
  edit(ops: TextOperation): void;
  replace(from: number, to: number, text: string): void;
  /** Makes the text `next`, as a text field's `input` event gives it. */
  setText(next: string): void;
  setCursor(anchor: number, head?: number): void;
}

/** Connects to a `doc` room (`ws://host/rooms/{kind}/{id}/ws?user=NAME`) and keeps its text in step. */
export function connectDocument(url: string, options?: RoomClientOptions): DocumentClient;
