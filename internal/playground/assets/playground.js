// Bootstraps GraphiQL for the playground page served by
// portier/internal/playground. Loaded after react, react-dom and graphiql
// (all from /playground/assets/), so the page needs no inline script.
(function () {
  'use strict';

  // The page puts a per-request CSP nonce on this <script> tag. GraphiQL's
  // bundled react-remove-scroll injects <style> elements at run time and tags
  // them with __webpack_nonce__ when it is defined, which keeps them allowed
  // by the style-src 'nonce-...' directive.
  var script = document.currentScript;
  if (script && script.nonce) {
    window.__webpack_nonce__ = script.nonce;
  }

  var root = document.getElementById('graphiql');
  var cfg = root.dataset;

  var url = new URL(cfg.endpoint, window.location.href);
  var wsURL = new URL(url.href);
  wsURL.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

  var fetcher = GraphiQL.createFetcher({
    url: url.href,
    subscriptionUrl: wsURL.href,
  });

  // The headers editor is prefilled with an Authorization header whose value
  // is a placeholder. Drop that header until a real token has been pasted,
  // so the login mutation (and schema introspection) are not sent with a
  // bogus bearer token.
  var placeholder = cfg.placeholder || '';
  function withoutPlaceholder(headers) {
    if (!placeholder || !headers || typeof headers !== 'object') {
      return headers;
    }
    var out = {};
    Object.keys(headers).forEach(function (k) {
      var v = headers[k];
      if (typeof v === 'string' && v.indexOf(placeholder) !== -1) {
        return;
      }
      out[k] = v;
    });
    return out;
  }

  function playgroundFetcher(params, opts) {
    if (opts && opts.headers) {
      opts = Object.assign({}, opts, { headers: withoutPlaceholder(opts.headers) });
    }
    return fetcher(params, opts);
  }

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: playgroundFetcher,
      defaultQuery: cfg.query,
      defaultHeaders: cfg.headers,
      isHeadersEditorEnabled: true,
      // shouldPersistHeaders is deliberately left unset: headers (and so
      // the pasted token) are kept in memory only until the user switches
      // "Persist headers" on in GraphiQL's settings dialog; that choice is
      // remembered. Setting it to false would hide the switch.
      defaultEditorToolsVisibility: 'headers',
      inputValueDeprecation: true,
    }),
  );
})();
