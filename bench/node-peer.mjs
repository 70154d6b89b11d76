// The plain Node.js server of the original pattern, as users hand-roll it today: node:http, an
// in-memory list of subscribers per channel, broadcast on publish, a history replayed to late
// subscribers. No framework. Usage: node node-peer.mjs PORT
import { createServer } from "node:http";

const channels = new Map(); // id -> { subscribers: Set<res>, history: string[] }
const channel = (id) => {
  let c = channels.get(id);
  if (!c) channels.set(id, (c = { subscribers: new Set(), history: [] }));
  return c;
};

const server = createServer((req, res) => {
  const [, kind, id] = req.url.split("?")[0].split("/");
  if (req.method === "GET" && kind === "sub" && id) {
    const c = channel(id);
    res.writeHead(200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
      "Access-Control-Allow-Origin": "*",
    });
    res.flushHeaders(); // the EventSource fires `open` now, not at the first event
    const last = Number(req.headers["last-event-id"] ?? 0);
    for (let i = last; i < c.history.length; i++) res.write(c.history[i]);
    c.subscribers.add(res);
    req.on("close", () => c.subscribers.delete(res));
    return;
  }
  if (req.method === "POST" && kind === "pub" && id) {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const c = channel(id);
      let messages;
      try {
        messages = JSON.parse(body);
      } catch {
        messages = [body];
      }
      for (const m of Array.isArray(messages) ? messages : [messages]) {
        const frame = `id: ${c.history.length + 1}\ndata: ${m}\n\n`;
        c.history.push(frame);
        for (const s of c.subscribers) s.write(frame);
      }
      res.writeHead(201).end();
    });
    return;
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 8081), "127.0.0.1", () => console.log(`node peer listening on ${server.address().port}`));
