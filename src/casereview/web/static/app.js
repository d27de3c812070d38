// Enhances the pages when JavaScript runs; every page works without it.
// The GOV.UK template marks the body with an inline script, which casereview's
// Content-Security-Policy forbids (script-src 'self'), so this module does it: the
// classes tell GOV.UK Frontend's styles and components that its JavaScript runs.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// A table wider than the window scrolls within itself (app.css); while it does, it
// takes the keyboard focus, so that it can be scrolled with the arrow keys.
function tablesThatScrollTakeTheFocus() {
  for (const table of document.querySelectorAll(".govuk-table")) {
    if (table.scrollWidth > table.clientWidth) {
      table.setAttribute("tabindex", "0");
    } else {
      table.removeAttribute("tabindex");
    }
  }
}
tablesThatScrollTakeTheFocus();
addEventListener("resize", tablesThatScrollTakeTheFocus);
