// Builds web/dist (embedded in the ssekit binary, and the npm package: the bundle and its type
// declarations, dist/ssekit.d.ts) and, with --tests, the unit tests into build/ (then the
// declarations, which take a full type-check, are left as they are).
// Licence comments (DOMPurify's) are kept, at the end of each bundle.
import { generateDtsBundle } from "dts-bundle-generator";
import { build } from "esbuild";
import { copyFile, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const common = { bundle: true, format: "esm", target: "es2020", legalComments: "eof", logLevel: "warning" };

await mkdir(join(root, "dist"), { recursive: true });
await build({ ...common, entryPoints: [join(root, "src/index.ts")], outfile: join(root, "dist/ssekit.js") });
await build({ ...common, entryPoints: [join(root, "demo/demo.ts")], outfile: join(root, "dist/demo.js") });
await copyFile(join(root, "src/ssekit.css"), join(root, "dist/ssekit.css"));
await copyFile(join(root, "demo/index.html"), join(root, "dist/index.html"));

if (!process.argv.includes("--tests")) {
  // One file beside the bundle, so an app that installs the package gets its types without
  // resolving our source layout (the generated vocabulary types included).
  const [dts] = generateDtsBundle([{ filePath: join(root, "src/index.ts"), output: { noBanner: true } }], {
    preferredConfigPath: join(root, "tsconfig.json"),
  });
  await writeFile(join(root, "dist/ssekit.d.ts"), dts);
}

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
