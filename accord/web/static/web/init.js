// Starts GOV.UK Frontend's components. Every page works without it.
import { initAll } from "../vendor/govuk-frontend.min.js";

initAll();
