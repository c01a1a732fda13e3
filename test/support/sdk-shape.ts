import type { CompositeMapper, Mapper } from "@azure/core-client";

/**
 * Holds a JSON body (what a fake ARM receives, or a Bicep resource's properties) to an Azure
 * SDK's own model mappers, which are generated from the service's REST specification: property
 * names it does not know (flattened `properties.x` names included), required properties that
 * are missing, enum values and numbers out of range, and values of the wrong JSON type. `values: false`
 * checks names only (Bicep values are expressions).
 */
export function shapeErrors(
  mapper: Mapper,
  mappers: Record<string, Mapper>,
  value: unknown,
  options: { values?: boolean; path?: string } = {},
): string[] {
  const path = options.path ?? "";
  const checkValues = options.values ?? true;
  const errors: string[] = [];
  const type = mapper.type as { name: string; className?: string; element?: Mapper; value?: Mapper; allowedValues?: unknown[] };
  if (value === undefined || value === null) return errors;
  switch (type.name) {
    case "Composite": {
      if (typeof value !== "object" || Array.isArray(value)) return checkValues ? [`${path || "body"}: must be an object`] : [];
      const tree = wireTree(compositeOf(mapper as CompositeMapper, mappers, value as Record<string, unknown>));
      errors.push(...checkNode(tree, value as Record<string, unknown>, mappers, checkValues, path));
      return errors;
    }
    case "Sequence":
      if (!Array.isArray(value)) return checkValues ? [`${path}: must be an array`] : [];
      return value.flatMap((v, i) => shapeErrors(type.element!, mappers, v, { values: checkValues, path: `${path}[${i}]` }));
    case "Dictionary":
      if (typeof value !== "object" || Array.isArray(value)) return checkValues ? [`${path}: must be an object`] : [];
      return Object.entries(value as object).flatMap(([k, v]) =>
        type.value ? shapeErrors(type.value, mappers, v, { values: checkValues, path: `${path}.${k}` }) : [],
      );
    case "Enum":
      return checkValues && !type.allowedValues?.includes(value)
        ? [`${path}: ${JSON.stringify(value)} is not one of ${type.allowedValues?.join(", ")}`]
        : [];
    case "String":
    case "Uuid":
    case "DateTime":
    case "Date":
    case "TimeSpan":
      return checkValues && typeof value !== "string" ? [`${path}: must be a string`] : [];
    case "Number": {
      if (!checkValues) return [];
      if (typeof value !== "number") return [`${path}: must be a number`];
      const c = mapper.constraints;
      if (c?.InclusiveMinimum !== undefined && value < c.InclusiveMinimum)
        return [`${path}: ${value} is below the minimum ${c.InclusiveMinimum}`];
      if (c?.InclusiveMaximum !== undefined && value > c.InclusiveMaximum)
        return [`${path}: ${value} is above the maximum ${c.InclusiveMaximum}`];
      return [];
    }
    case "Boolean":
      return checkValues && typeof value !== "boolean" ? [`${path}: must be a boolean`] : [];
    default:
      return errors;
  }
}

interface WireNode {
  mapper?: Mapper;
  children: Map<string, WireNode>;
}

/** A model's properties as they appear on the wire: `properties.labels` is `labels` inside `properties`. */
function wireTree(modelProperties: Record<string, Mapper>): WireNode {
  const root: WireNode = { children: new Map() };
  for (const property of Object.values(modelProperties)) {
    if (!property.serializedName) continue;
    const parts = property.serializedName.split(/(?<!\\)\./).map((p) => p.replace(/\\\./g, "."));
    let node = root;
    for (const part of parts) {
      let child = node.children.get(part);
      if (!child) node.children.set(part, (child = { children: new Map() }));
      node = child;
    }
    node.mapper = property;
  }
  return root;
}

function checkNode(
  node: WireNode,
  value: Record<string, unknown>,
  mappers: Record<string, Mapper>,
  checkValues: boolean,
  path: string,
): string[] {
  const errors: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const child = node.children.get(key);
    const at = path ? `${path}.${key}` : key;
    if (!child) {
      errors.push(`${at}: no such property`);
      continue;
    }
    if (child.mapper) errors.push(...shapeErrors(child.mapper, mappers, v, { values: checkValues, path: at }));
    else if (typeof v === "object" && v !== null && !Array.isArray(v))
      errors.push(...checkNode(child, v as Record<string, unknown>, mappers, checkValues, at));
  }
  for (const [key, child] of node.children) {
    const m = child.mapper;
    if (checkValues && m?.required && !m.readOnly && !m.isConstant && value[key] === undefined)
      errors.push(`${path ? `${path}.` : ""}${key}: required`);
  }
  return errors;
}

function compositeOf(mapper: CompositeMapper, mappers: Record<string, Mapper>, value: Record<string, unknown>): Record<string, Mapper> {
  const named = mapper.type.modelProperties ? mapper : (mappers[mapper.type.className ?? ""] as CompositeMapper | undefined);
  if (!named) return {};
  // A polymorphic model: the subtype the discriminator's value names (`endpointType: 'AzureFunction'`).
  const discriminator = named.type.polymorphicDiscriminator;
  const kind = discriminator ? value[discriminator.serializedName] : undefined;
  if (typeof kind === "string") {
    const family = named.type.uberParent ?? named.type.className;
    const subtype = Object.values(mappers).find(
      (m): m is CompositeMapper => m.serializedName === kind && (m as CompositeMapper).type?.uberParent === family,
    );
    if (subtype) return subtype.type.modelProperties ?? {};
  }
  return named.type.modelProperties ?? {};
}

/**
 * What a fake ARM answers a body that does not fit the SDK's model: ARM's 400 error body, or
 * undefined when it fits. The faults also go to `seen`, for a test to show.
 */
export function invalidContent(
  mapper: Mapper,
  mappers: object,
  body: unknown,
  seen: string[],
): { error: { code: string; message: string } } | undefined {
  const errors = shapeErrors(mapper, mappers as Record<string, Mapper>, body);
  if (errors.length === 0) return undefined;
  seen.push(...errors);
  return { error: { code: "InvalidRequestContent", message: `The request content was invalid: ${errors.join("; ")}` } };
}
