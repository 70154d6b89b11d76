// A TypeScript app that installed the packed @ssekit/web. It must get real types: each
// expected error marked below is itself an error if the types were missing or `any`.
import { connect, GenerationState, type Connection, type EventName } from "@ssekit/web";

type ImportEvents = {
  "import.progress": { done: number; total: number };
  "import.done": { rows: number; skipped: string[] };
};

const conn: Connection = connect<ImportEvents>("/v1/generations/gen_x/events", {
  "block-content": (data, id) => console.log(data.blockIndex, data.html.length, id),
  "generation-complete": (data) => console.log(data.totalDuration.toFixed()),
  "import.progress": ({ done, total }) => console.log(done / total),
  "import.done": ({ rows, skipped }) => console.log(rows, skipped.join(", ")),
  onFatal: (message, code) => console.log(message, code),
}, { token: "a.jwt.token" });
conn.close();

const name: EventName = "block-start";
const state = new GenerationState();
state.apply(name, { blockIndex: 0, blockId: "b0", title: "t" }, "gen_x:1");

connect<ImportEvents>("/v1/generations/gen_x/events", {
  // @ts-expect-error: `done` is a number
  "import.progress": ({ done }: { done: string }) => console.log(done),
});

connect("/v1/generations/gen_x/events", {
  // @ts-expect-error: no such field on block-content
  "block-content": (data) => console.log(data.noSuchField),
});
