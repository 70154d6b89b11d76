// Builds web/dist (embedded in the ssekit binary) and, with --tests, the unit tests into build/.
// Licence comments (DOMPurify's) are kept, at the end of each bundle.
import { build } from "esbuild";
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const common = { bundle: true, format: "esm", target: "es2020", legalComments: "eof", logLevel: "warning" };

await mkdir(join(root, "dist"), { recursive: true });
await build({ ...common, entryPoints: [join(root, "src/index.ts")], outfile: join(root, "dist/ssekit.js") });
await build({ ...common, entryPoints: [join(root, "demo/demo.ts")], outfile: join(root, "dist/demo.js") });
await copyFile(join(root, "src/ssekit.css"), join(root, "dist/ssekit.css"));
await copyFile(join(root, "demo/index.html"), join(root, "dist/index.html"));

if (process.argv.includes("--tests")) {
  const out = join(root, "build/unit");
  await rm(out, { recursive: true, force: true });
  const tests = (await readdir(join(root, "test/unit"))).filter((f) => f.endsWith(".test.ts"));
  await build({
    ...common,
    platform: "node",
    target: "node20",
    entryPoints: tests.map((f) => join(root, "test/unit", f)),
    outdir: out,
    outExtension: { ".js": ".mjs" },
  });
}
