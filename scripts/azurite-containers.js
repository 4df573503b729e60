// Creates blob containers in Azurite with the emulator's well-known shared key, so that tests
// find them: object stores write into containers but do not create them.
// Usage: node scripts/azurite-containers.js http://127.0.0.1:PORT/devstoreaccount1 NAME...
const crypto = require("crypto");
const http = require("http");

const KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const [endpoint, ...names] = process.argv.slice(2);
const url = new URL(endpoint);
const account = url.pathname.split("/")[1];

function create(name) {
  return new Promise((resolve, reject) => {
    const date = new Date().toUTCString();
    const version = "2021-08-06";
    const path = `/${account}/${name}`;
    const toSign = [
      "PUT", "", "", "", "", "", "", "", "", "", "", "",
      `x-ms-date:${date}\nx-ms-version:${version}`,
      `/${account}${path}\nrestype:container`,
    ].join("\n");
    const signature = crypto
      .createHmac("sha256", Buffer.from(KEY, "base64"))
      .update(toSign, "utf8")
      .digest("base64");
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: `${path}?restype=container`,
        method: "PUT",
        headers: {
          "x-ms-date": date,
          "x-ms-version": version,
          "Content-Length": 0,
          Authorization: `SharedKey ${account}:${signature}`,
        },
      },
      (response) => {
        response.resume();
        // 201 created, 409 already there.
        if (response.statusCode === 201 || response.statusCode === 409) resolve();
        else reject(new Error(`creating container ${name}: HTTP ${response.statusCode}`));
      },
    );
    request.on("error", reject);
    request.end();
  });
}

(async () => {
  for (const name of names) await create(name);
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
