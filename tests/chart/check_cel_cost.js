// Refuses CRD validation rules that a real API server would refuse for their estimated cost.
//
// When a CRD is created or updated, kube-apiserver estimates each x-kubernetes-validations
// expression's worst-case cost from the declared bounds of the values it touches (maxLength,
// maxItems, maxProperties) and refuses the CRD when one rule, or all of them together, exceed the
// budget (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#resource-use-by-validation-functions).
// A string, list or map without a declared bound is estimated at the size of a whole request
// (about 3 MiB), so any operation whose cost grows with its size (comparison, concatenation,
// matches, contains, iteration, conversion) blows the budget. Only size() and has() cost the same
// whatever the size. Without the Go estimator at hand, this check refuses what can exceed it:
//   - any messageExpression: its strings are built by conversion and concatenation, which the
//     server estimates as unbounded; a plain message says the same at no cost;
//   - any read of a string, list or map without a declared bound (maxLength or enum, maxItems,
//     maxProperties) other than as the operand of size() or has().
// Expressions are parsed with @bufbuild/cel, and each path from `self` (and from the variables of
// all/exists/map/filter) is resolved in the schema.
// Input on stdin: the CRD as yaml_to_json.py prints it. Usage:
//   node check_cel_cost.js NODE_MODULES_DIR < crd.json
// Exits 1 and prints PATH: problem lines on stderr when a rule would be refused.
"use strict";

const fs = require("fs");
const path = require("path");

const nodeModules = process.argv[2];
if (!nodeModules) {
  console.error("usage: node check_cel_cost.js NODE_MODULES_DIR < crd.json");
  process.exit(2);
}
const { parse, unparse } = require(path.join(nodeModules, "@bufbuild/cel"));

// The schema the API server gives CEL for metadata at a resource's root: name and generateName,
// both strings without a bound.
const ROOT_METADATA = {
  type: "object",
  properties: { name: { type: "string" }, generateName: { type: "string" } },
};

// Why a value of this schema node has no size bound, or null when it has one or needs none.
function unboundedBecause(node) {
  if (!node) return null;
  if (node.type === "string" && node.maxLength === undefined && !node.enum) {
    return "a string without maxLength or enum";
  }
  if (node.type === "array" && node.maxItems === undefined) return "a list without maxItems";
  if (node.type === "object" && node.additionalProperties && node.maxProperties === undefined) {
    return "a map without maxProperties";
  }
  return null;
}

// The schema node one field below `node`, or undefined when the schema does not declare it.
function fieldOf(node, field) {
  if (!node || node.type !== "object") return undefined;
  if (node.properties && field in node.properties) return node.properties[field];
  if (typeof node.additionalProperties === "object") return node.additionalProperties;
  return undefined;
}

// Resolves expression `expr` to the schema node of the value it reads, given the schema of each
// variable in scope; undefined for anything that is not a path into the object.
function resolve(expr, scope) {
  const kind = expr.exprKind;
  if (kind.case === "identExpr") return scope.get(kind.value.name);
  if (kind.case === "selectExpr" && !kind.value.testOnly) {
    return fieldOf(resolve(kind.value.operand, scope), kind.value.field);
  }
  if (kind.case === "callExpr" && kind.value.function === "_[_]" && kind.value.args.length === 2) {
    const container = resolve(kind.value.args[0], scope);
    if (container && container.type === "array") return container.items;
    return fieldOf(container, "");
  }
  return undefined;
}

// Visits every sub-expression; reports each unbounded read that is not an operand of size() or has().
function checkExpression(expr, scope, report, sizeOnly = false) {
  const kind = expr.exprKind;
  const reason = unboundedBecause(resolve(expr, scope));
  if (reason && !sizeOnly) {
    report(`${unparse(expr)} is ${reason}; the API server estimates the cost of reading it as unbounded` +
      " (declare a bound, or use only size() or has() of it)");
  }
  switch (kind.case) {
    case "selectExpr": {
      // has(self.a.b) tests presence only; self.a.b reads only its last field.
      checkExpression(kind.value.operand, scope, report, true);
      break;
    }
    case "callExpr": {
      const { function: name, target, args } = kind.value;
      const isSize = name === "size" && (target ? args.length === 0 : args.length === 1);
      if (target) checkExpression(target, scope, report, isSize);
      const indexing = name === "_[_]";
      args.forEach((arg, i) => checkExpression(arg, scope, report, isSize || (indexing && i === 0)));
      break;
    }
    case "listExpr":
      kind.value.elements.forEach((element) => checkExpression(element, scope, report));
      break;
    case "structExpr":
      kind.value.entries.forEach((entry) => {
        if (entry.keyKind.case === "mapKey") checkExpression(entry.keyKind.value, scope, report);
        checkExpression(entry.value, scope, report);
      });
      break;
    case "comprehensionExpr": {
      // all/exists/map/filter: iterating reads the whole range, so the range needs its bound.
      const c = kind.value;
      checkExpression(c.iterRange, scope, report);
      const range = resolve(c.iterRange, scope);
      const inner = new Map(scope);
      inner.set(c.iterVar, range && range.type === "array" ? range.items : range && { type: "string" });
      inner.set(c.accuVar, undefined);
      for (const part of [c.accuInit, c.loopCondition, c.loopStep, c.result]) {
        if (part) checkExpression(part, inner, report);
      }
      break;
    }
    default:
      break;
  }
}

// Calls visit(node, fieldPath) for every node of the schema.
function walkSchema(node, fieldPath, visit) {
  visit(node, fieldPath);
  for (const [name, child] of Object.entries(node.properties || {})) {
    walkSchema(child, `${fieldPath}.properties[${name}]`, visit);
  }
  if (typeof node.additionalProperties === "object") {
    walkSchema(node.additionalProperties, `${fieldPath}.additionalProperties`, visit);
  }
  if (node.items) walkSchema(node.items, `${fieldPath}.items`, visit);
}

function checkCrd(crd) {
  const problems = [];
  for (const version of crd.spec.versions) {
    const rootSchema = version.schema.openAPIV3Schema;
    walkSchema(rootSchema, `spec.versions[${version.name}].schema.openAPIV3Schema`, (node, fieldPath) => {
      const self = node === rootSchema
        ? { ...node, properties: { ...node.properties, metadata: ROOT_METADATA } }
        : node;
      (node["x-kubernetes-validations"] || []).forEach((validation, i) => {
        const where = `${fieldPath}.x-kubernetes-validations[${i}]`;
        if ("messageExpression" in validation) {
          problems.push(`${where}.messageExpression: refused: the API server estimates string()` +
            " and concatenation as unbounded; give a plain message instead");
        }
        let parsed;
        try {
          parsed = parse(validation.rule);
        } catch (error) {
          problems.push(`${where}.rule: does not parse: ${error.message}`);
          return;
        }
        const scope = new Map([["self", self], ["oldSelf", self]]);
        checkExpression(parsed.expr, scope, (problem) => problems.push(`${where}.rule: ${problem}`));
      });
    });
  }
  return problems;
}

const documents = JSON.parse(fs.readFileSync(0, "utf8"));
let failed = false;
for (const crd of documents) {
  const problems = [...new Set(checkCrd(crd))];
  for (const problem of problems) console.error(`${crd.metadata.name}: ${problem}`);
  if (problems.length === 0) console.log(`CEL cost within bounds: ${crd.metadata.name}`);
  failed = failed || problems.length > 0;
}
process.exit(failed ? 1 : 0);
