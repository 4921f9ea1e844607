// GET /openapi.json and GET /docs (DESIGN §3): the document, and Swagger UI from the swagger-ui-dist package's own files,
// served by the service itself, so the reference works with no CDN and no network.
import { dirname } from 'node:path';
import express, { Router } from 'express';
import type { OpenApiDocument } from './openapi';

/** Where the docs page loads its scripts and styles from (the files of swagger-ui-dist, as the package ships them). */
export const DOCS_ASSETS = '/docs/assets';

const swaggerUiDir = dirname(require.resolve('swagger-ui-dist/package.json'));

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(title: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeHtml(title)} — API reference</title>
    <link rel="stylesheet" href="${DOCS_ASSETS}/swagger-ui.css" />
    <link rel="icon" type="image/png" href="${DOCS_ASSETS}/favicon-32x32.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_ASSETS}/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;
}

// validatorUrl null: Swagger UI would otherwise send the document to an online validator for its badge.
const init = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
});
`;

/** The router serving the document and its reference; mounted by the app factory before the body rules. */
export function openApiRoutes(document: OpenApiDocument): Router {
  const router = Router();
  const json = JSON.stringify(document);
  const html = page(document.info.title);
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(json);
  });
  router.get('/docs', (_req, res) => {
    res.type('text/html').send(html);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('text/javascript').send(init);
  });
  router.use(DOCS_ASSETS, express.static(swaggerUiDir, { index: false, fallthrough: true, maxAge: '1h' }));
  return router;
}
