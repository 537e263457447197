import { connect, createServer, type Server, type Socket } from 'node:net';

/** One client connection through the proxy, as the proxy saw it. */
type Relay = {
  client: Socket;
  upstream: Socket | undefined;
  /** Bytes from the client so far. */
  sent: number;
  stalled: boolean;
};

/**
 * A TCP proxy in front of a real server, to rehearse network failures without stopping a
 * server other test files share: `down()` makes the address refuse connections, `up()` serves
 * it again on the same port, `cutAfter(n)` drops every connection once n bytes have gone from
 * client to server (an upload cut mid-file), `stall()` / `stallAfter(n)` turn connections into
 * a black hole (a hung server or a route that went away with the sockets still open).
 *
 * Sockets are half-open capable, so a stalled connection does not answer a client's FIN either:
 * a client that only ends its side gracefully and waits for the server's close waits forever,
 * as it would in production. `clientsClosed()` tells whether the client really let go: in stall
 * mode the proxy never closes a connection itself (only `down()` and `cutAfter` do).
 */
export class TcpProxy {
  private server: Server | undefined;
  /** Connections open (their client has not let go). */
  private readonly relays = new Set<Relay>();
  /** Every socket not yet destroyed, a stalled one whose client left included: down() ends them. */
  private readonly sockets = new Set<Socket>();
  private cutAt: number | undefined;
  private stallAt: number | undefined;
  private readonly closeWaiters = new Set<() => void>();
  port = 0;
  /** Client connections accepted since the proxy was created. */
  accepted = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async up(): Promise<this> {
    if (this.server) return this;
    const server = createServer({ allowHalfOpen: true }, (client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    this.port = address.port;
    this.server = server;
    return this;
  }

  /** Refuse new connections and drop the open ones, as a server that went away. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const r of [...this.relays]) this.drop(r);
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Drop each connection after `bytes` bytes from the client (undefined: never). */
  cutAfter(bytes: number | undefined): void {
    this.cutAt = bytes;
  }

  /**
   * From now on forward nothing, either way, on the open connections and on new ones (accepted
   * and held, never passed on): a server that hangs, or packets lost on the way.
   */
  stall(): void {
    this.stallAt = 0;
    for (const r of this.relays) r.stalled = true;
  }

  /**
   * Stall each new connection once `bytes` bytes have gone from the client (undefined: never):
   * past the SSH handshake (a few kB), this hangs an upload in the middle.
   */
  stallAfter(bytes: number | undefined): void {
    this.stallAt = bytes;
  }

  /** Connections that are stalled and still held open by their client. */
  get stalledConnections(): number {
    return [...this.relays].filter((r) => r.stalled).length;
  }

  /**
   * Whether every client connection accepted so far has been closed (by its client: FIN or
   * reset), waiting up to `withinMs` for it. A generous bound for a test, not a measurement.
   */
  async clientsClosed(withinMs = 10_000): Promise<boolean> {
    const done = () => this.relays.size === 0;
    if (done()) return true;
    return new Promise<boolean>((resolve) => {
      const check = () => {
        if (!done()) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(done()), withinMs);
      const finish = (result: boolean) => {
        clearTimeout(timer);
        this.closeWaiters.delete(check);
        resolve(result);
      };
      this.closeWaiters.add(check);
    });
  }

  private relay(client: Socket): void {
    this.accepted++;
    const relay: Relay = { client, upstream: undefined, sent: 0, stalled: this.stallAt === 0 };
    this.relays.add(relay);
    this.track(client);
    client.on('end', () => {
      // A black hole does not answer a FIN; a live relay passes it on.
      if (relay.stalled) this.forget(relay);
      else relay.upstream?.end();
    });
    client.on('close', () => this.drop(relay));
    client.on('error', () => this.drop(relay));
    client.on('data', (chunk: Buffer) => {
      relay.sent += chunk.length;
      if (this.cutAt !== undefined && relay.sent > this.cutAt) {
        this.drop(relay);
        return;
      }
      if (!relay.stalled && this.stallAt !== undefined && relay.sent > this.stallAt) relay.stalled = true;
      // Stalled: read and discard, so the client's writes seem to leave but nothing arrives.
      if (!relay.stalled) relay.upstream?.write(chunk);
    });
    // A connection stalled from the start never reaches the server.
    if (relay.stalled) return;
    const upstream = connect({ port: this.targetPort, host: this.targetHost, allowHalfOpen: true });
    relay.upstream = upstream;
    this.track(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!relay.stalled) client.write(chunk);
    });
    upstream.on('end', () => {
      if (!relay.stalled) client.end();
    });
    upstream.on('close', () => {
      if (!relay.stalled) this.drop(relay);
    });
    upstream.on('error', () => {
      if (!relay.stalled) this.drop(relay);
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Close both sides of a connection at once. */
  private drop(relay: Relay): void {
    relay.client.destroy();
    relay.upstream?.destroy();
    this.forget(relay);
  }

  /** The connection is closed (or its client has let go): no longer open. */
  private forget(relay: Relay): void {
    if (!this.relays.delete(relay)) return;
    for (const check of [...this.closeWaiters]) check();
  }
}
