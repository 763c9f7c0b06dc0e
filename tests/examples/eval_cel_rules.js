// Evaluates a CRD's x-kubernetes-validations CEL rules on custom resources, as the API server does
// on create: every rule at every schema node whose value is present, with `self` bound to that value
// (integers as CEL int, numbers as CEL double). Rules on oldSelf (transition rules) do not apply to
// creation and are left out.
// Input on stdin: the JSON that validate_custom_resources.py prints (its "crds", each object checked
// against the schema of its apiVersion and kind). Usage:
//   node eval_cel_rules.js NODE_MODULES_DIR < validated.json
// Exits 1 when a rule fails, printing FILE: KIND NAME: FIELD: MESSAGE on stderr.
"use strict";

const fs = require("fs");
const path = require("path");

const nodeModules = process.argv[2];
if (!nodeModules) {
  console.error("usage: node eval_cel_rules.js NODE_MODULES_DIR < validated.json");
  process.exit(2);
}
const { run } = require(path.join(nodeModules, "@bufbuild/cel"));

// JSON value -> CEL input, typed by the schema node it sits at.
function toCel(schema, value) {
  if (Array.isArray(value)) return value.map((item) => toCel(schema.items || {}, item));
  if (value !== null && typeof value === "object") {
    const properties = schema.properties || {};
    const extra = typeof schema.additionalProperties === "object" ? schema.additionalProperties : {};
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(properties[k] || extra, v)]));
  }
  const intLike = schema.type === "integer" || schema["x-kubernetes-int-or-string"];
  if (typeof value === "number" && Number.isInteger(value) && intLike) return BigInt(value);
  return value;
}

// Calls visit(schemaNode, value, fieldPath) for every present value, depth first.
function walk(schema, value, fieldPath, visit) {
  visit(schema, value, fieldPath);
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => walk(schema.items, item, `${fieldPath}[${i}]`, visit));
  } else if (value !== null && typeof value === "object") {
    for (const [name, child] of Object.entries(schema.properties || {})) {
      if (name in value) walk(child, value[name], fieldPath ? `${fieldPath}.${name}` : name, visit);
    }
  }
}

function ruleErrors(schema, value, fieldPath) {
  const errors = [];
  for (const validation of schema["x-kubernetes-validations"] || []) {
    if (/\boldSelf\b/.test(validation.rule)) continue;
    const self = toCel(schema, value);
    let ok;
    try {
      ok = run(validation.rule, { self });
    } catch (error) {
      errors.push(`${fieldPath || "<root>"}: rule ${JSON.stringify(validation.rule)} failed to evaluate: ${error.message}`);
      continue;
    }
    if (ok !== true) {
      // The chart tests refuse messageExpression (check_cel_cost.js), so every rule has a message.
      errors.push(`${fieldPath || "<root>"}: ${validation.message || `failed rule: ${validation.rule}`}`);
    }
  }
  return errors;
}

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const schemas = new Map(
  (input.crds || [input.crd]).flatMap((crd) =>
    crd.spec.versions.map((v) => [`${crd.spec.group}/${v.name} ${crd.spec.names.kind}`, v.schema.openAPIV3Schema]),
  ),
);
let failed = false;
for (const { file, object } of input.objects) {
  const schema = schemas.get(`${object.apiVersion} ${object.kind}`);
  const where = `${file}: ${object.kind} ${object.metadata && object.metadata.name}`;
  let objectFailed = false;
  walk(schema, object, "", (node, value, fieldPath) => {
    for (const message of ruleErrors(node, value, fieldPath)) {
      console.error(`${where}: ${message}`);
      objectFailed = true;
    }
  });
  if (!objectFailed) console.log(`valid   ${where}`);
  failed = failed || objectFailed;
}
process.exit(failed ? 1 : 0);
