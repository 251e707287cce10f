// live.js owns the websocket to /graphql: the graphql-transport-ws protocol
// (connection_init with the bearer token, subscribe, next, error, complete,
// ping/pong), and reconnection with backoff. Each subscription's variables
// are asked for again at every (re)subscribe, so a subscriber resumes where
// it left off by returning its last cursor as after.

const PROTOCOL = "graphql-transport-ws";

export class Live {
  // token() returns the bearer token; onState(state) hears "connecting",
  // "connected", "reconnecting" and "offline"; onRefused(message) hears that
  // Cairn refused the credentials (close code 4403).
  constructor({ token, onState = () => {}, onRefused = () => {} }) {
    this.token = token;
    this.onState = onState;
    this.onRefused = onRefused;
    this.subs = new Map(); // id → {query, variables(), next(data), error(errors)}
    this.nextId = 1;
    this.ws = null;
    this.wanted = false; // whether the connection should be kept up
    this.retries = 0;
    this.timer = 0;
    this.acked = false; // whether connection_ack came on this socket
  }

  // subscribe starts a subscription (now if connected, else at the next
  // connection) and returns a function that ends it.
  subscribe(query, variables, next, error = () => {}) {
    const id = String(this.nextId++);
    this.subs.set(id, { query, variables, next, error });
    if (this.acked) this.send({ id, type: "subscribe", payload: { query, variables: variables() } });
    return () => {
      this.subs.delete(id);
      if (this.acked) this.send({ id, type: "complete" });
    };
  }

  // connect opens the connection and keeps it up until disconnect.
  connect() {
    this.wanted = true;
    if (!this.ws) this.open();
  }

  // disconnect closes the connection and stops reconnecting; subscriptions
  // stay registered and resume at the next connect.
  disconnect() {
    this.wanted = false;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
    this.acked = false;
    this.onState("offline");
  }

  open() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
    this.onState(this.retries ? "reconnecting" : "connecting");
    const ws = new WebSocket(url, PROTOCOL);
    this.ws = ws;
    this.acked = false;
    ws.onopen = () => this.send({ type: "connection_init", payload: { Authorization: "Bearer " + this.token() } });
    ws.onmessage = (ev) => this.receive(JSON.parse(ev.data));
    ws.onclose = (ev) => {
      if (this.ws !== ws) return; // an old socket, replaced or closed on purpose
      this.ws = null;
      this.acked = false;
      if (ev.code === 4403 || ev.code === 4401) {
        this.wanted = false;
        this.onState("offline");
        this.onRefused(ev.reason || "Cairn no longer accepts your credentials; sign in again.");
        return;
      }
      if (!this.wanted) return;
      // Back off: 0.5 s, 1 s, 2 s … at most 8 s between attempts.
      const wait = Math.min(8000, 500 * 2 ** this.retries++);
      this.onState("reconnecting");
      this.timer = setTimeout(() => this.wanted && this.open(), wait);
    };
  }

  receive(msg) {
    switch (msg.type) {
      case "connection_ack":
        this.acked = true;
        this.retries = 0;
        this.onState("connected");
        for (const [id, s] of this.subs) this.send({ id, type: "subscribe", payload: { query: s.query, variables: s.variables() } });
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "next": {
        const s = this.subs.get(msg.id);
        if (!s) break;
        if (msg.payload.errors) s.error(msg.payload.errors);
        if (msg.payload.data) s.next(msg.payload.data);
        break;
      }
      case "error": {
        const s = this.subs.get(msg.id);
        if (s) s.error(msg.payload);
        break;
      }
    }
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }
}
