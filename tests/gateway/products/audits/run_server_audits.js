// Runs graphql-http's server audits against one URL with a bearer token; prints the results
// as JSON lines: {"id", "name", "status", "reason"}. Usage: node run_server_audits.js URL TOKEN
const { auditServer } = require('graphql-http');

const [url, token] = process.argv.slice(2);
const fetchWithToken = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...(init.headers || {}), authorization: `Bearer ${token}` } });

auditServer({ url, fetchFn: fetchWithToken }).then(
  (results) => {
    for (const result of results) {
      console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status, reason: result.reason || null }));
    }
  },
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
