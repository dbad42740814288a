/** The one HTML page of the dashboard; everything else is drawn by the script. */

// A ring in the brand colour: a favicon without another request.
const FAVICON = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="none" stroke="#2f5bd3" stroke-width="3"/></svg>')}`;

/** index.html, naming the content-hashed script and stylesheet. */
export function indexHtml(script: string, stylesheet: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>closeloop</title>
<link rel="icon" href="${FAVICON}">
<link rel="stylesheet" href="/dashboard/${stylesheet}">
<script defer src="/dashboard/${script}"></script>
</head>
<body>
<div id="app"><noscript>The closeloop dashboard needs JavaScript. The same data is in the admin API: /docs.</noscript></div>
</body>
</html>
`;
}
