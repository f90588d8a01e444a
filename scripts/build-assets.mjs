// Builds Accord's front-end assets into accord/web/static/vendor, so Django's static files
// (and WhiteNoise) serve them without node_modules at run time:
// - compiles GOV.UK Frontend from Sass with Accord's settings (accord/web/assets_src/accord.scss);
// - copies GOV.UK Frontend's JavaScript and images, and htmx.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const govuk = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const target = join(root, "accord", "web", "static", "vendor");

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });

const css = sass.compile(join(root, "accord", "web", "assets_src", "accord.scss"), {
  loadPaths: [join(root, "node_modules")],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(target, "accord.css"), css.css);
cpSync(join(govuk, "govuk-frontend.min.js"), join(target, "govuk-frontend.min.js"));
cpSync(join(govuk, "assets", "images"), join(target, "assets", "images"), { recursive: true });
// htmx, for pages that follow background work (progress bars polling the server).
cpSync(join(root, "node_modules", "htmx.org", "dist", "htmx.min.js"), join(target, "htmx.min.js"));
console.log(`Accord assets built in ${target}`);
