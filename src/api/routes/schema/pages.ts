/** The Swagger UI page; its assets come from the installed swagger-ui-dist package, served below this path. */
export function swaggerUiPage(assets: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Roundhouse API</title>
  <link rel="stylesheet" href="${assets}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${assets}/swagger-ui-bundle.js"></script>
  <script src="${assets}/swagger-ui-standalone-preset.js"></script>
  <script src="${assets}/swagger-init.js"></script>
</body>
</html>
`;
}

/** Starts Swagger UI on the schema (a script file, so the page needs no inline script). */
export function swaggerInitScript(schemaUrl: string): string {
  return `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(schemaUrl)},
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`;
}

/** The ReDoc page; the standalone bundle comes from the installed redoc package. */
export function redocPage(schemaUrl: string, bundle: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Roundhouse API</title>
</head>
<body>
  <redoc spec-url="${schemaUrl}"></redoc>
  <script src="${bundle}"></script>
</body>
</html>
`;
}
