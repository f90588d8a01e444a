// htmx under Accord's Content Security Policy (scripts and styles from this site only): no
// eval, no inline <style> for request indicators, no <script> from swapped-in content, and
// requests to this site only. Runs after htmx (both deferred), before htmx starts.
if (window.htmx) {
  Object.assign(window.htmx.config, {
    allowEval: false,
    allowScriptTags: false,
    includeIndicatorStyles: false,
    selfRequestsOnly: true,
    historyCacheSize: 0,
  });
}
