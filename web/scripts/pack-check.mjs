// Packs @ssekit/web as `npm publish` would, installs the tarball into a scratch app and
// type-checks that app (test/pack/consumer.ts) with tsc under both module resolutions an app
// may use: the package must ship its declarations and they must type the handlers.
import { execFileSync } from "node:child_process";
import { copyFile, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const scratch = await mkdtemp(join(tmpdir(), "ssekit-pack-"));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"] }).toString();
try {
  run("npm", ["pack", "--silent", "--pack-destination", scratch], root);
  const tarball = (await readdir(scratch)).find((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error("npm pack wrote no tarball");
  const app = join(scratch, "app");
  await rm(app, { recursive: true, force: true });
  await import("node:fs/promises").then((fs) => fs.mkdir(app));
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  run("npm", ["install", "--silent", "--no-audit", "--no-fund", "--prefer-offline", join(scratch, tarball)], app);
  await copyFile(join(root, "test/pack/consumer.ts"), join(app, "index.ts"));
  const tsc = join(root, "node_modules/.bin/tsc");
  for (const [module, resolution] of [["ES2022", "Bundler"], ["NodeNext", "NodeNext"]]) {
    const config = {
      compilerOptions: {
        target: "ES2022", module, moduleResolution: resolution, lib: ["ES2022", "DOM"],
        strict: true, noEmit: true, skipLibCheck: false, types: [],
      },
      files: ["index.ts"],
    };
    await writeFile(join(app, "tsconfig.json"), JSON.stringify(config));
    execFileSync(tsc, ["-p", "tsconfig.json"], { cwd: app, stdio: "inherit" });
    console.log(`pack-check: the packed package type-checks an app (moduleResolution ${resolution})`);
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
