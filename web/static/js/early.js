// The first API reads of a page, started while its modules still load: a
// small classic script in the page's head (not async: an async script may
// run after the modules). The page names the reads in data-get (paths, space
// separated); ui.js's request() takes each response once instead of asking
// again (window.vigilEarly). Same headers as ui.js: a 401 still sends the
// page to /login there.
(() => {
  const paths = (document.currentScript?.dataset.get || '').split(/\s+/).filter(Boolean);
  const early = window.vigilEarly = window.vigilEarly || {};
  for (const path of paths) {
    early[path] = fetch(path, { headers: { 'X-Vigil-UI': '1', Accept: 'application/json' },
                                credentials: 'same-origin', cache: 'no-store' });
    early[path].catch(() => {});   // request() sees the failure when it takes it
  }
})();
