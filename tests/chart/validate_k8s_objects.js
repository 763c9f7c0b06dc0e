// Validates Kubernetes objects (a JSON array on stdin) against the Kubernetes OpenAPI schemas that the
// npm package kubernetes-models ships (and @kubernetes-models/prometheus-operator for ServiceMonitor).
// An object of a kind without a schema is an error, so that nothing goes unchecked.
// Usage: node validate_k8s_objects.js NODE_MODULES_DIR < objects.json
"use strict";

const fs = require("fs");
const path = require("path");

const nodeModules = process.argv[2];
if (!nodeModules) {
  console.error("usage: node validate_k8s_objects.js NODE_MODULES_DIR < objects.json");
  process.exit(2);
}

// The model class of apiVersion ("group/version", or "version" for the core group) and kind.
// kubernetes-models is CommonJS; the prometheus-operator models are ES modules, imported by file
// path because ES module resolution ignores NODE_PATH.
async function loadModel(apiVersion, kind) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    const file = path.join(nodeModules, "@kubernetes-models/prometheus-operator", apiVersion, `${kind}.js`);
    return (await import(file))[kind];
  }
  return require(path.join(nodeModules, "kubernetes-models", apiVersion, kind))[kind];
}

function describe(object) {
  const name = (object.metadata && object.metadata.name) || "<unnamed>";
  return `${object.kind || "<no kind>"} ${name}`;
}

async function validate(object) {
  if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
    return ["apiVersion and kind must be strings"];
  }
  let Model;
  try {
    Model = await loadModel(object.apiVersion, object.kind);
  } catch (error) {
    Model = undefined;
  }
  if (typeof Model !== "function") {
    return [`no schema for ${object.apiVersion} ${object.kind}`];
  }
  if (!object.metadata || typeof object.metadata.name !== "string" || object.metadata.name === "") {
    return ["metadata.name is required"];
  }
  try {
    new Model(object).validate();
  } catch (error) {
    return [error.message];
  }
  return [];
}

async function main() {
  const objects = JSON.parse(fs.readFileSync(0, "utf8"));
  if (objects.length === 0) {
    console.error("no objects to validate");
    process.exit(1);
  }
  let failures = 0;
  for (const object of objects) {
    const errors = await validate(object);
    if (errors.length) {
      failures += 1;
      for (const message of errors) console.error(`INVALID ${describe(object)}: ${message}`);
    } else {
      console.log(`valid   ${describe(object)} (${object.apiVersion})`);
    }
  }
  process.exit(failures ? 1 : 0);
}

main();
