// Starts GOV.UK Frontend's components. Every page works without it.
import { initAll } from "../vendor/govuk-frontend.min.js";

initAll();

// Forms that take a while (checking an uploaded file) show a progress indicator once sent.
// Downloads do not leave the page, so the indicator hides again after a short while.
for (const form of document.querySelectorAll("form[data-accord-progress]")) {
  form.addEventListener("submit", () => {
    const status = document.getElementById(form.dataset.accordProgress);
    if (!status) return;
    const choice = form.querySelector("input[name=result]:checked");
    const text = status.querySelector("[data-accord-progress-text]");
    if (text) {
      text.textContent = choice && choice.value !== "page"
        ? "Checking your file and preparing your download…"
        : "Uploading and checking your file…";
    }
    status.hidden = false;
    if (choice && choice.value !== "page") {
      setTimeout(() => { status.hidden = true; }, 8000);
    }
  });
}
